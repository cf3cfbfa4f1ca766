import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COHORT_HEADER, cohortRows, writeCohortCsv } from '../../src-main/ingest/synthetic-cohort.ts';

const HEADER = 'hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,at_risk';

interface Row {
  hospital: string;
  patient: string;
  temperature: number;
  systolic: number;
  diastolic: number;
  respiratory: number;
  spo2: number;
  atRisk: number;
}

function parseRows(lines: string[]): Row[] {
  return lines.map((line) => {
    const cells = line.split(',');
    expect(cells).toHaveLength(8);
    const [hospital, patient, temperature, systolic, diastolic, respiratory, spo2, atRisk] = cells as [
      string, string, string, string, string, string, string, string,
    ];
    // Monitor formatting: temperature with exactly one decimal, everything else integral.
    expect(temperature).toMatch(/^\d{2}\.\d$/);
    for (const cell of [systolic, diastolic, respiratory, spo2]) expect(cell).toMatch(/^\d+$/);
    expect(atRisk).toMatch(/^[01]$/);
    return {
      hospital,
      patient,
      temperature: Number(temperature),
      systolic: Number(systolic),
      diastolic: Number(diastolic),
      respiratory: Number(respiratory),
      spo2: Number(spo2),
      atRisk: Number(atRisk),
    };
  });
}

function expectPhysiological(rows: Row[]): void {
  const outOfRange = rows.filter(
    (r) =>
      r.temperature < 25 || r.temperature > 45 ||
      r.systolic < 40 || r.systolic > 300 ||
      r.diastolic < 20 || r.diastolic > 200 || r.diastolic >= r.systolic ||
      r.respiratory < 2 || r.respiratory > 80 ||
      r.spo2 < 40 || r.spo2 > 100,
  );
  expect(outOfRange).toEqual([]);
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('cohortRows', () => {
  const lines = [...cohortRows({ patients: 20_000, seed: 7 })];
  const rows = parseRows(lines.slice(1));

  it('starts with the header and yields one line per patient', () => {
    expect(COHORT_HEADER).toBe(HEADER);
    expect(lines[0]).toBe(HEADER);
    expect(rows).toHaveLength(20_000);
    const ids = rows.map((r) => r.patient);
    expect(new Set(ids).size).toBe(20_000);
    ids.forEach((id) => expect(id).toMatch(/^MRN-\d{8}$/));
    // In no order, as in a real export: neither the rows' order nor its reverse.
    const sorted = [...ids].sort();
    expect(ids).not.toEqual(sorted);
    expect(ids).not.toEqual(sorted.reverse());
  });

  it('is deterministic per seed', () => {
    expect([...cohortRows({ patients: 20_000, seed: 7 })]).toEqual(lines);
    // A smaller cohort is a prefix of a larger one with the same seed.
    expect([...cohortRows({ patients: 500, seed: 7 })]).toEqual(lines.slice(0, 501));
    expect([...cohortRows({ patients: 500, seed: 8 })]).not.toEqual(lines.slice(0, 501));
  });

  it('keeps every value within physiological ranges, diastolic below systolic', () => {
    expectPhysiological(rows);
  });

  it('honours the at-risk fraction and hospital count', () => {
    expect(Math.abs(mean(rows.map((r) => r.atRisk)) - 0.15)).toBeLessThan(0.01);
    expect(new Set(rows.map((r) => r.hospital))).toEqual(new Set(['H-01', 'H-02', 'H-03']));
    const custom = parseRows([...cohortRows({ patients: 5000, seed: 3, hospitals: 12, atRiskFraction: 0.4 })].slice(1));
    expect(Math.abs(mean(custom.map((r) => r.atRisk)) - 0.4)).toBeLessThan(0.03);
    expect(new Set(custom.map((r) => r.hospital)).size).toBe(12);
    expect(parseRows([...cohortRows({ patients: 300, seed: 3, atRiskFraction: 0 })].slice(1)).every((r) => r.atRisk === 0)).toBe(true);
  });

  it('shifts the at-risk vitals towards deterioration while the classes still overlap', () => {
    const risk = rows.filter((r) => r.atRisk === 1);
    const stable = rows.filter((r) => r.atRisk === 0);
    expect(mean(risk.map((r) => r.respiratory))).toBeGreaterThan(mean(stable.map((r) => r.respiratory)) + 3);
    expect(mean(risk.map((r) => r.spo2))).toBeLessThan(mean(stable.map((r) => r.spo2)) - 2);
    const abnormalTemperature = (r: Row): boolean => r.temperature >= 38 || r.temperature < 36;
    expect(risk.filter(abnormalTemperature).length / risk.length).toBeGreaterThan(0.4);
    expect(stable.filter(abnormalTemperature).length / stable.length).toBeLessThan(0.05);
    // Overlap: a sizeable share of at-risk patients look unremarkable on RR and SpO2 alone.
    const unremarkable = risk.filter((r) => r.respiratory <= 20 && r.spo2 >= 94);
    expect(unremarkable.length / risk.length).toBeGreaterThan(0.15);
  });

  it('validates its options', () => {
    expect(() => [...cohortRows({ patients: -1, seed: 1 })]).toThrow(RangeError);
    expect(() => [...cohortRows({ patients: 100_000_001, seed: 1 })]).toThrow(/from 0 to 100000000/);
    expect(() => [...cohortRows({ patients: 10, seed: 1, hospitals: 0 })]).toThrow(RangeError);
    expect(() => [...cohortRows({ patients: 10, seed: 1, atRiskFraction: 1.5 })]).toThrow(RangeError);
  });
});

describe('writeCohortCsv', () => {
  it('streams exactly the generated lines to disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homopai-cohort-'));
    try {
      const path = join(dir, 'cohort.csv');
      const opts = { patients: 10_000, seed: 21, hospitals: 5 };
      await writeCohortCsv(path, opts);
      expect(await readFile(path, 'utf8')).toBe(`${[...cohortRows(opts)].join('\n')}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects invalid options', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homopai-cohort-'));
    try {
      await expect(writeCohortCsv(join(dir, 'bad.csv'), { patients: 1.5, seed: 1 })).rejects.toThrow(RangeError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pilot-vitals.csv', () => {
  const text = readFileSync(new URL('../../resources/sample/pilot-vitals.csv', import.meta.url), 'utf8');
  const lines = text.trimEnd().split('\n');
  const rows = parseRows(lines.slice(1));

  it('has the cohort header and 19 patients from 3 hospitals, 3 of them at risk', () => {
    expect(lines[0]).toBe(HEADER);
    expect(rows).toHaveLength(19);
    expect(new Set(rows.map((r) => r.hospital))).toEqual(new Set(['H-NORTH', 'H-CENTRAL', 'H-SOUTH']));
    expect(new Set(rows.map((r) => r.patient)).size).toBe(19);
    rows.forEach((r) => expect(r.patient).toMatch(/^P-\d{4}$/));
    expect(rows.filter((r) => r.atRisk === 1)).toHaveLength(3);
  });

  it('holds plausible values with clearly abnormal at-risk patients', () => {
    expectPhysiological(rows);
    for (const r of rows.filter((row) => row.atRisk === 1)) {
      expect(r.respiratory).toBeGreaterThanOrEqual(25);
      expect(r.spo2).toBeLessThanOrEqual(91);
      expect(r.systolic).toBeLessThanOrEqual(101);
    }
    for (const r of rows.filter((row) => row.atRisk === 0)) {
      expect(r.respiratory).toBeLessThanOrEqual(20);
      expect(r.spo2).toBeGreaterThanOrEqual(95);
      expect(r.temperature).toBeGreaterThanOrEqual(36);
      expect(r.temperature).toBeLessThan(38);
    }
  });
});
