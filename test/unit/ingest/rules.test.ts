import { describe, expect, it } from 'vitest';
import { bracketedUnit, headerUnit, normalizeHeader, roleOf } from '../../../src-main/ingest/aliases.ts';
import { automaticLabel, labelWithPositive } from '../../../src-main/ingest/labels.ts';
import { QUANTITIES, type Quantity, rangeProblem, toCanonical, unitByValues, unitNamed } from '../../../src-main/ingest/quantities.ts';
import { isMissing, readBloodPressure, readNumber } from '../../../src-main/ingest/values.ts';

describe('header aliases', () => {
  it('normalises case, bracketed units and punctuation', () => {
    expect(normalizeHeader('Body Temp (°F)')).toBe('bodytemp');
    expect(normalizeHeader('SpO2 %')).toBe('spo2');
    expect(normalizeHeader('resp_rate')).toBe('resprate');
    expect(normalizeHeader('  Systolic BP [mmHg] ')).toBe('systolicbp');
  });

  it.each([
    ['Body Temp (°F)', { role: 'vital', kind: 'temperature' }],
    ['Temp °C', { role: 'vital', kind: 'temperature' }],
    ['TEMP_F', { role: 'vital', kind: 'temperature' }],
    ['SystolicBP', { role: 'vital', kind: 'systolic_bp' }],
    ['SBP mmHg', { role: 'vital', kind: 'systolic_bp' }],
    ['diaBP', { role: 'vital', kind: 'diastolic_bp' }],
    ['resp_rate', { role: 'vital', kind: 'respiratory_rate' }],
    ['Respiratory Rate (breaths/min)', { role: 'vital', kind: 'respiratory_rate' }],
    ['SpO2 %', { role: 'vital', kind: 'spo2' }],
    ['O2 Sat', { role: 'vital', kind: 'spo2' }],
    ['HeartRate', { role: 'vital', kind: 'heart_rate' }],
    ['HR (bpm)', { role: 'vital', kind: 'heart_rate' }],
    ['BP', { role: 'blood_pressure' }],
    ['Blood Pressure', { role: 'blood_pressure' }],
    ['blood_pressure', { role: 'blood_pressure' }],
    ['Hospital ID', { role: 'hospital' }],
    ['site', { role: 'hospital' }],
    ['Facility', { role: 'hospital' }],
    ['Center', { role: 'hospital' }],
    ['MRN', { role: 'patient' }],
    ['subject_id', { role: 'patient' }],
    ['ID', { role: 'patient' }],
    ['Weight (kg)', { role: 'vital', kind: 'weight' }],
    ['weight_lbs', { role: 'vital', kind: 'weight' }],
    ['Height', { role: 'vital', kind: 'height' }],
    ['BloodSugar', { role: 'vital', kind: 'glucose' }],
    ['Glucose (mg/dL)', { role: 'vital', kind: 'glucose' }],
    ['At-Risk', { role: 'label' }],
    ['at_risk', { role: 'label' }],
    ['Outcome', { role: 'label' }],
    ['TARGET', { role: 'label' }],
  ])('%s is recognised', (header, role) => {
    expect(roleOf(header)).toEqual(role);
  });

  it('does not match on substrings or strip unit letters from non-vital names', () => {
    expect(roleOf('BPMeds')).toBeNull();
    expect(roleOf('RiskLevel')).toBeNull();
    expect(roleOf('Site C')).toBeNull();
    expect(roleOf('BMI')).toBeNull();
  });

  it.each([
    ['Body Temp (°F)', 'F'],
    ['temp_f', 'F'],
    ['TempF', 'F'],
    ['tempf', 'F'],
    ['Temperature (Fahrenheit)', 'F'],
    ['temp degF', 'F'],
    ['Temperature ℉', 'F'],
    ['Temp (°C)', 'C'],
    ['temperature_celsius', 'C'],
    ['TempC', 'C'],
    ['BodyTemp', null],
    ['temperature', null],
    ['temp (F/C)', null],
  ])('temperature unit of %s is %s', (header, unit) => {
    expect(headerUnit('temperature', header)?.id ?? null).toBe(unit);
  });

  it.each([
    ['weight', 'Weight (kg)', 'kg'],
    ['weight', 'weight_lbs', 'lb'],
    ['weight', 'WeightLb', 'lb'],
    ['height', 'Height (in)', 'in'],
    ['height', 'height_cm', 'cm'],
    ['glucose', 'Glucose (mg/dL)', 'mg/dL'],
    ['glucose', 'Glucose mg/dL', 'mg/dL'],
    ['glucose', 'glucose_mmol_l', 'mmol/L'],
    ['spo2', 'SpO2 %', '%'],
    ['weight', 'Weight', null],
  ] as const)('%s unit of %s is %s', (quantity, header, unit) => {
    expect(headerUnit(quantity, header)?.id ?? null).toBe(unit);
  });

  it('keeps the bracketed unit of a generic column', () => {
    expect(bracketedUnit('Glucose (mg/dL)')).toBe('mg/dL');
    expect(bracketedUnit('Weight [kg]')).toBe('kg');
    expect(bracketedUnit('Age')).toBe('');
  });
});

describe('cell values', () => {
  it.each(['', '  ', 'NA', 'n/a', 'NaN', 'NULL', '-', '?'])('%j is missing', (text) => {
    expect(isMissing(text)).toBe(true);
    expect(readNumber(text, false)).toEqual({ kind: 'missing' });
  });

  it('reads plain numbers and, only with decimalComma, a decimal comma', () => {
    expect(readNumber(' 37.2 ', false)).toEqual({ kind: 'number', value: 37.2 });
    expect(readNumber('-1.5e3', false)).toEqual({ kind: 'number', value: -1500 });
    expect(readNumber('.5', false)).toEqual({ kind: 'number', value: 0.5 });
    expect(readNumber('37,2', true)).toEqual({ kind: 'number', value: 37.2 });
    expect(readNumber('37.2', true)).toEqual({ kind: 'number', value: 37.2 });
    expect(readNumber('37,2', false)).toEqual({ kind: 'invalid', problem: 'not a number' });
    expect(readNumber('1.234,5', true)).toEqual({ kind: 'invalid', problem: 'not a number' });
  });

  it.each(['Infinity', '-inf', '1e400'])('%s is not finite', (text) => {
    expect(readNumber(text, false)).toEqual({ kind: 'invalid', problem: 'not a finite number' });
  });

  it.each(['abc', "=cmd|' /C calc'!A0", '0x10', '98 %', '1 2'])('%j is not a number', (text) => {
    expect(readNumber(text, false)).toEqual({ kind: 'invalid', problem: 'not a number' });
  });

  it('splits a combined blood pressure', () => {
    expect(readBloodPressure('120/80', false)).toEqual({ kind: 'pair', systolic: 120, diastolic: 80 });
    expect(readBloodPressure(' 120 / 80,5 ', true)).toEqual({ kind: 'pair', systolic: 120, diastolic: 80.5 });
    expect(readBloodPressure('NA', false)).toEqual({ kind: 'missing' });
    for (const bad of ['120', '120/', '120/80/60', '120-80', 'high/low']) {
      expect(readBloodPressure(bad, false).kind).toBe('invalid');
    }
  });
});

describe('unit rules', () => {
  const unit = (q: Quantity, id: string) => unitNamed(q, id)!;

  it('temperature: °C kept, °F converted, each only within its own band', () => {
    expect(toCanonical(unit('temperature', 'C'), 37.2)).toBe(37.2);
    expect(toCanonical(unit('temperature', '°F'), 98.6)).toBeCloseTo(37, 10);
    expect(toCanonical(unit('temperature', 'F'), 113)).toBe(45);
    expect(toCanonical(unit('temperature', 'C'), 98.6)).toBeNaN();
    expect(toCanonical(unit('temperature', 'F'), 37)).toBeNaN();
    expect(rangeProblem(unit('temperature', 'F'))).toBe('out of physiological range 77–113 °F');
    expect(unitByValues('temperature', [36.5, 37.2])).toEqual({ unit: unit('temperature', 'C') });
    expect(unitByValues('temperature', [36.5, 98.6])).toEqual({ ambiguous: [unit('temperature', 'C'), unit('temperature', 'F')] });
    expect(unitByValues('temperature', [60])).toEqual({ none: true });
  });

  it('spo2: a fraction column is scaled, the range is 40–100 %', () => {
    expect(toCanonical(unit('spo2', 'fraction'), 0.97)).toBeCloseTo(97, 10);
    expect(toCanonical(unit('spo2', '%'), 97)).toBe(97);
    expect(toCanonical(unit('spo2', 'fraction'), 0.3)).toBeNaN();
    expect(toCanonical(unit('spo2', '%'), 101)).toBeNaN();
    expect(unitByValues('spo2', [0.97, 0.95])).toEqual({ unit: unit('spo2', 'fraction') });
    // A typo does not unsettle the unit: it is an error at its row.
    expect(unitByValues('spo2', [97, 150, 96])).toEqual({ unit: unit('spo2', '%') });
  });

  it('weight, height and glucose convert to kg, cm and mmol/L; overlapping readings fit both units', () => {
    expect(toCanonical(unit('weight', 'lb'), 154)).toBeCloseTo(69.853, 3);
    expect(toCanonical(unit('height', 'in'), 70)).toBeCloseTo(177.8, 10);
    expect(toCanonical(unit('height', 'm'), 1.8)).toBe(180);
    expect(toCanonical(unit('glucose', 'mg/dL'), 90.08)).toBeCloseTo(5, 10);
    expect(unitByValues('weight', [70, 82])).toEqual({ ambiguous: [unit('weight', 'kg'), unit('weight', 'lb')] });
    expect(unitByValues('glucose', [5.5, 6.1])).toEqual({ unit: unit('glucose', 'mmol/L') });
    // Framingham's glucose: some readings (40, 55) fit both units, but only mg/dL fits them all.
    expect(unitByValues('glucose', [40, 55, 90, 140])).toEqual({ unit: unit('glucose', 'mg/dL') });
    expect(unitNamed('weight', 'stone')).toBeNull();
  });

  it.each([
    ['systolic_bp', 40, 300],
    ['diastolic_bp', 20, 200],
    ['respiratory_rate', 2, 80],
    ['heart_rate', 20, 300],
  ] as const)('%s accepts %d–%d and rejects just outside', (q, low, high) => {
    const only = QUANTITIES[q].units[0]!;
    expect(toCanonical(only, low)).toBe(low);
    expect(toCanonical(only, high)).toBe(high);
    expect(toCanonical(only, low - 0.1)).toBeNaN();
    expect(toCanonical(only, high + 0.1)).toBeNaN();
  });
});

describe('labels', () => {
  const auto = automaticLabel(false);

  it.each([
    ['1', 1], ['0', 0], ['1.0', 1], ['TRUE', 1], ['false', 0], ['Yes', 1], ['no', 0], ['Y', 1], ['n', 0],
    ['at risk', 1], ['At-Risk', 1], ['  HIGH ', 1], ['positive', 1], ['healthy', 0], ['Normal', 0], ['low', 0],
    ['negative', 0],
  ])('%j maps to %d automatically', (text, value) => {
    expect(auto(text)).toBe(value);
  });

  it('leaves empty and NA labels unknown and other text unrecognised', () => {
    expect(auto('')).toBeNaN();
    expect(auto('NA')).toBeNaN();
    expect(auto('mid risk')).toBeNull();
    expect(auto('2')).toBeNull();
  });

  it('with a positive value: that text is 1, any other text 0, compared trimmed and case-insensitively', () => {
    const read = labelWithPositive('high risk');
    expect(read(' High Risk ')).toBe(1);
    expect(read('high  risk')).toBe(1);
    expect(read('mid risk')).toBe(0);
    expect(read('yes')).toBe(0);
    expect(read('')).toBeNaN();
  });
});
