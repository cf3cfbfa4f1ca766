import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvValidationError, planColumns, readAll } from '../../../src-main/ingest/index.ts';
import { SHARED } from '../../helpers/workspace.ts';

// Real public exports from ../shared (read-only); the expectations are recomputed here with a plain split,
// which is enough because neither file quotes anything.
const MATERNAL = join(SHARED, 'maternal-health-risk.csv');
const FRAMINGHAM = join(SHARED, 'framingham.csv');

function table(path: string): { header: string[]; rows: { line: number; cells: string[] }[] } {
  const lines = readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',');
  const rows = lines
    .map((text, index) => ({ line: index + 1, cells: text.split(',') }))
    .slice(1)
    .filter(({ cells }) => cells.join('') !== '');
  return { header, rows };
}

describe('maternal-health-risk.csv (BOM, °F body temperature, three text risk levels)', () => {
  const { header, rows } = table(MATERNAL);
  const column = (name: string): number => header.indexOf(name);
  const label = { label: 'RiskLevel', positive: 'high risk', schema: 'generic' } as const;

  it('plans a generic import: values as given, RiskLevel excluded as text', async () => {
    const plan = await planColumns(MATERNAL, label);
    expect(plan.schema).toBe('generic');
    expect(plan.features.map((f) => f.name)).toEqual(['Age', 'SystolicBP', 'DiastolicBP', 'BloodSugar', 'BodyTemp', 'HeartRate']);
    expect(plan.features.find((f) => f.name === 'BodyTemp')).toEqual({ name: 'BodyTemp', source: 'BodyTemp', unit: '' });
    expect(plan.label).toEqual({ source: 'RiskLevel', positive: 'high risk' });
    expect(plan.notes.some((n) => n.startsWith('schema: generic (requested)'))).toBe(true);
  });

  it('recognises each vital on its own by default: °F body temperature stored in °C, both pressures, glucose, heart rate', async () => {
    const plan = await planColumns(MATERNAL, { label: 'RiskLevel', positive: 'high risk' });
    expect(plan.features.map((f) => [f.source, f.name, f.sourceUnit?.label ?? '', f.unit, f.conversion ?? ''])).toEqual([
      ['Age', 'Age', '', '', ''],
      ['SystolicBP', 'systolic_bp', 'mmHg', 'mmHg', ''],
      ['DiastolicBP', 'diastolic_bp', 'mmHg', 'mmHg', ''],
      ['BloodSugar', 'glucose', 'mmol/L', 'mmol/L', ''],
      ['BodyTemp', 'temperature', '°F', '°C', '°F → °C'],
      ['HeartRate', 'heart_rate', 'bpm', 'bpm', ''],
    ]);
    expect(plan.features.find((f) => f.name === 'temperature')?.sourceUnit?.from).toBe('values');
  });

  it('imports all 1014 rows as given (two heart rates of 7 bpm are kept: no range rule in the generic schema)', async () => {
    const { data, summary } = await readAll(MATERNAL, label);
    const positives = rows.filter(({ cells }) => cells[column('RiskLevel')]?.trim().toLowerCase() === 'high risk').length;
    expect(rows).toHaveLength(1014);
    expect(summary.rows).toBe(1014);
    expect(summary.dropped).toBe(0);
    expect(summary.sha256).toBe(createHash('sha256').update(readFileSync(MATERNAL)).digest('hex'));
    expect(Array.from(data.labels ?? []).filter((value) => value === 1)).toHaveLength(positives);
    expect(Array.from(data.labels ?? []).filter((value) => value === 0)).toHaveLength(1014 - positives);
    expect(Array.from(data.rowNumbers)).toEqual(rows.map(({ line }) => line));
    header.slice(0, 6).forEach((name, f) => {
      expect(Array.from(data.values[f] ?? [])).toEqual(rows.map(({ cells }) => Number(cells[column(name)])));
    });
  });

  it('the vitals rules still reject the two 7 bpm heart rates when the heart rate is read as a vital', async () => {
    const expected = rows.filter(({ cells }) => Number(cells[column('HeartRate')]) < 20).map(({ line }) => line);
    expect(expected).toHaveLength(2);
    const file = join(tmpdir(), `maternal-vitals-${process.pid}.csv`);
    // The same column in a vitals-schema file (temperature, BP, RR and SpO2 present) is range-checked.
    const lines = readFileSync(MATERNAL, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean);
    writeFileSync(
      file,
      [`${lines[0]},RespRate,SpO2`, ...lines.slice(1).map((l) => `${l},16,98`)].join('\n'),
    );
    const error: unknown = await readAll(file, { label: 'RiskLevel', positive: 'high risk' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvValidationError);
    const { issues } = error as CsvValidationError;
    expect(issues.filter((i) => i.column === 'HeartRate').map((i) => i.row)).toEqual(expected);
    expect(issues.every(({ message }) => !message.includes(' 7 '))).toBe(true);
  });
});

describe('framingham.csv (NA gaps, 0/1 label)', () => {
  const { header, rows } = table(FRAMINGHAM);

  it("with missing 'drop' it drops exactly the rows with a gap", async () => {
    const gap = (cells: string[]): boolean => cells.some((cell) => cell === '' || cell === 'NA');
    const complete = rows.filter(({ cells }) => !gap(cells));
    const labelColumn = header.indexOf('TenYearCHD');
    const { plan, data, summary } = await readAll(FRAMINGHAM, { label: 'TenYearCHD', missing: 'drop' });

    expect(plan.schema).toBe('auto');
    // sysBP, diaBP, heartRate and glucose are recognised (glucose in mg/dL by its values, stored in mmol/L).
    const recognised = { sysBP: 'systolic_bp', diaBP: 'diastolic_bp', heartRate: 'heart_rate', glucose: 'glucose' } as Record<string, string>;
    expect(plan.features.map((f) => f.name)).toEqual(header.filter((name) => name !== 'TenYearCHD').map((name) => recognised[name] ?? name));
    expect(plan.features.find((f) => f.name === 'glucose')?.conversion).toBe('mg/dL → mmol/L');
    expect(rows.length - complete.length).toBeGreaterThan(0);
    expect(summary.dropped).toBe(rows.length - complete.length);
    expect(summary.rows).toBe(complete.length);
    expect(Array.from(data.rowNumbers)).toEqual(complete.map(({ line }) => line));
    expect(Array.from(data.labels ?? [])).toEqual(complete.map(({ cells }) => Number(cells[labelColumn])));
    plan.features.forEach((feature, f) => {
      const source = header.indexOf(feature.source);
      const convert = feature.name === 'glucose' ? (v: number) => v / 18.016 : (v: number) => v;
      expect(Array.from(data.values[f] ?? [])).toEqual(complete.map(({ cells }) => convert(Number(cells[source]))));
    });
  });

  it("with the default 'reject' every gap is an issue", async () => {
    const gaps = rows.flatMap(({ cells }) => cells.filter((cell) => cell === 'NA' || cell === ''));
    const error: unknown = await readAll(FRAMINGHAM, { label: 'TenYearCHD' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvValidationError);
    expect((error as CsvValidationError).totalIssues).toBe(gaps.length);
    expect((error as CsvValidationError).issues).toHaveLength(50);
  });
});
