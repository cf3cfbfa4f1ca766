import { describe, expect, it } from 'vitest';
import { normalizeHeader, roleOf, temperatureUnitFromName, bracketedUnit } from '../../../src-main/ingest/aliases.ts';
import { automaticLabel, labelWithPositive } from '../../../src-main/ingest/labels.ts';
import { fahrenheitToCelsius, normalizeVital } from '../../../src-main/ingest/units.ts';
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
    expect(roleOf('glucose')).toBeNull();
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
    expect(temperatureUnitFromName(header)).toBe(unit);
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
  it('temperature: °C and °F by range, or by the unit the name gave', () => {
    expect(normalizeVital('temperature', 37.2, null)).toEqual({ ok: true, value: 37.2 });
    expect(normalizeVital('temperature', 98.6, null)).toEqual({ ok: true, value: fahrenheitToCelsius(98.6) });
    expect(fahrenheitToCelsius(98.6)).toBeCloseTo(37, 10);
    expect(normalizeVital('temperature', 60, null)).toEqual({
      ok: false,
      problem: 'out of physiological range 25–45 °C or 77–113 °F',
    });
    expect(normalizeVital('temperature', 98.6, 'C')).toEqual({ ok: false, problem: 'out of physiological range 25–45 °C' });
    expect(normalizeVital('temperature', 37, 'F')).toEqual({ ok: false, problem: 'out of physiological range 77–113 °F' });
    expect(normalizeVital('temperature', 113, 'F')).toEqual({ ok: true, value: 45 });
  });

  it('spo2: fractions are scaled, the range is 40–100 %', () => {
    expect(normalizeVital('spo2', 0.97, null)).toEqual({ ok: true, value: 97 });
    expect(normalizeVital('spo2', 1, null)).toEqual({ ok: true, value: 100 });
    expect(normalizeVital('spo2', 97, null)).toEqual({ ok: true, value: 97 });
    expect(normalizeVital('spo2', 0.3, null).ok).toBe(false);
    expect(normalizeVital('spo2', 0, null).ok).toBe(false);
    expect(normalizeVital('spo2', 101, null).ok).toBe(false);
  });

  it.each([
    ['systolic_bp', 40, 300],
    ['diastolic_bp', 20, 200],
    ['respiratory_rate', 2, 80],
    ['heart_rate', 20, 300],
  ] as const)('%s accepts %d–%d and rejects just outside', (kind, low, high) => {
    expect(normalizeVital(kind, low, null)).toEqual({ ok: true, value: low });
    expect(normalizeVital(kind, high, null)).toEqual({ ok: true, value: high });
    expect(normalizeVital(kind, low - 0.1, null).ok).toBe(false);
    expect(normalizeVital(kind, high + 0.1, null).ok).toBe(false);
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
