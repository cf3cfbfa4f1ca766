import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvValidationError, planColumns, readAll, readRecords, type IngestOptions } from '../../../src-main/ingest/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'homopai-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `lines` joined by `eol` (no trailing newline unless the last line is ''), returns the path. */
function csv(lines: string[], { eol = '\n', bom = false, name }: { eol?: string; bom?: boolean; name?: string } = {}): string {
  const path = join(dir, name ?? `t${++fileCount}.csv`);
  writeFileSync(path, (bom ? '\uFEFF' : '') + lines.join(eol));
  return path;
}

async function validationError(path: string, options?: IngestOptions): Promise<CsvValidationError> {
  const error: unknown = await readAll(path, options).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CsvValidationError);
  return error as CsvValidationError;
}

const VITALS_HEADER = 'temperature,systolic_bp,diastolic_bp,respiratory_rate,spo2';

describe('messy real-world layout', () => {
  it('reads BOM + semicolons + decimal comma + CRLF + quotes + padding + blank lines', async () => {
    const path = csv(
      [
        ' MRN ; Site ; Body Temp (°F) ; BP ; resp_rate ; SpO2 % ; Pulse ; At-Risk ',
        '"P1";H1;98,6;120/80;16;97;72;yes',
        '',
        '   ',
        'P2 ; H1 ; "99,5" ; " 130 / 85 " ; 18 ; 96 ; 80,5 ; No',
        ';;;;;;;',
        'P3;H2;100.4;140/90;20;95;88;',
        '',
      ],
      { eol: '\r\n', bom: true, name: 'ward-7.csv' },
    );
    const { plan, data, summary } = await readAll(path);
    expect(plan.schema).toBe('vitals');
    expect(plan.delimiter).toBe(';');
    expect(plan.features.map((f) => [f.name, f.source, f.unit])).toEqual([
      ['temperature', 'Body Temp (°F)', '°C'],
      ['systolic_bp', 'BP', 'mmHg'],
      ['diastolic_bp', 'BP', 'mmHg'],
      ['respiratory_rate', 'resp_rate', 'breaths/min'],
      ['spo2', 'SpO2 %', '%'],
      ['heart_rate', 'Pulse', 'bpm'],
    ]);
    expect(plan.label).toEqual({ source: 'At-Risk', positive: null });
    expect(plan.hospitalColumn).toBe('Site');
    expect(plan.patientColumn).toBe('MRN');
    expect(plan.notes).toContain('"Body Temp (°F)": temperature in °F (by its header), converted to °C; must lie in 77–113 °F, values outside are errors, never clipped');
    expect(plan.notes.some((note) => note.startsWith('numbers: decimal comma accepted'))).toBe(true);

    expect(Array.from(data.rowNumbers)).toEqual([2, 5, 7]);
    expect(data.patientIds).toEqual(['P1', 'P2', 'P3']);
    expect(data.hospitalIds).toEqual(['H1', 'H1', 'H2']);
    const [temperature, systolic, diastolic, respiratory, spo2, heartRate] = data.values.map((column) => Array.from(column));
    expect(temperature?.map((t) => Number(t.toFixed(6)))).toEqual([37, 37.5, 38]);
    expect(systolic).toEqual([120, 130, 140]);
    expect(diastolic).toEqual([80, 85, 90]);
    expect(respiratory).toEqual([16, 18, 20]);
    expect(spo2).toEqual([97, 96, 95]);
    expect(heartRate).toEqual([72, 80.5, 88]);
    expect(Array.from(data.labels ?? [])).toEqual([1, 0, Number.NaN]);
    expect(summary.rows).toBe(3);
    expect(summary.dropped).toBe(0);
    expect(summary.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('sniffs tab and comma delimiters; a quoted header name may contain another delimiter', async () => {
    const tabbed = await readAll(csv(['Temp (C)\tSBP\tDBP\tRR\tSpO2', '37.0\t120\t80\t14\t98', '']));
    expect(tabbed.plan.delimiter).toBe('\t');
    expect(Array.from(tabbed.data.values[0] ?? [])).toEqual([37]);

    const quoted = await readAll(csv(['"Temp; °C",SBP,DBP,RR,SpO2', '36.6,110,70,12,99']));
    expect(quoted.plan.delimiter).toBe(',');
    expect(quoted.plan.features[0]?.source).toBe('Temp; °C');
  });

  it('numbers from a comma file are never read with a decimal comma', async () => {
    const error = await validationError(csv([VITALS_HEADER, '"37,2",120,80,14,98']));
    expect(error.issues.map((issue) => issue.message)).toEqual(['row 2, column "temperature": not a number']);
  });
});

describe('temperature units', () => {
  it('°F by column name is converted', async () => {
    const { data, plan } = await readAll(csv(['Temp (F),SBP,DBP,RR,SpO2', '98.6,120,80,14,98', '104,120,80,14,98']));
    expect(Array.from(data.values[0] ?? []).map((t) => Number(t.toFixed(9)))).toEqual([37, 40]);
    expect(plan.features[0]).toEqual({
      name: 'temperature',
      source: 'Temp (F)',
      unit: '°C',
      range: [25, 45],
      recognisedAs: 'temperature',
      sourceUnit: { id: 'F', label: '°F', from: 'header' },
      unitChoices: [{ id: 'C', label: '°C' }, { id: 'F', label: '°F' }],
      conversion: '°F → °C',
    });
  });

  it('°F by the column’s values when the header names no unit; a column mixing °C and °F asks for the unit', async () => {
    const { data, plan } = await readAll(csv(['Temperature,SBP,DBP,RR,SpO2', '98.6,120,80,14,98', '100.4,120,80,14,98']));
    expect(Array.from(data.values[0] ?? []).map((t) => Number(t.toFixed(9)))).toEqual([37, 38]);
    expect(plan.features[0]?.sourceUnit).toEqual({ id: 'F', label: '°F', from: 'values' });
    const mixed = await validationError(csv(['Temperature,SBP,DBP,RR,SpO2', '98.6,120,80,14,98', '37.2,120,80,14,98']));
    expect(mixed.issues[0]?.message).toMatch(/column "Temperature": temperature: the header names no unit and the column has values that could be °C or °F .*state it with --unit "Temperature=C"/);
    // Stated, the unit settles it: the °F reading is then an error at its row, never converted by guess.
    const stated = await validationError(csv(['Temperature,SBP,DBP,RR,SpO2', '98.6,120,80,14,98', '37.2,120,80,14,98']), { units: { temperature: 'C' } });
    expect(stated.issues.map((i) => i.message)).toEqual(['row 2, column "Temperature": out of physiological range 25–45 °C']);
  });

  it('°C by column name rejects Fahrenheit-looking values; no unit rejects values in neither band', async () => {
    const named = await validationError(csv(['Temperature °C,SBP,DBP,RR,SpO2', '98.6,120,80,14,98']));
    expect(named.issues[0]?.message).toBe('row 2, column "Temperature °C": out of physiological range 25–45 °C');
    const unnamed = await validationError(csv(['temp,SBP,DBP,RR,SpO2', '60,120,80,14,98']));
    expect(unnamed.issues[0]?.message).toBe('row 2, column "temp": out of physiological range 25–45 °C');
  });
});

describe('blood pressure', () => {
  it('splits a combined column and checks both parts and their order', async () => {
    const path = csv([
      'temp,blood pressure,rr,spo2',
      '37,120/80,14,98',
      '37,120-80,14,98',
      '37,80/120,14,98',
      '37,350/10,14,98',
    ]);
    const error = await validationError(path);
    expect(error.issues).toEqual([
      {
        file: error.file,
        row: 3,
        column: 'blood pressure',
        problem: 'not a blood pressure reading (expected systolic/diastolic, e.g. 120/80)',
        message: 'row 3, column "blood pressure": not a blood pressure reading (expected systolic/diastolic, e.g. 120/80)',
      },
      {
        file: error.file,
        row: 4,
        column: 'blood pressure',
        problem: 'diastolic pressure is not below systolic',
        message: 'row 4, column "blood pressure": diastolic pressure is not below systolic',
      },
      {
        file: error.file,
        row: 5,
        column: 'blood pressure',
        problem: 'systolic out of physiological range 40–300 mmHg; diastolic out of physiological range 20–200 mmHg',
        message:
          'row 5, column "blood pressure": systolic out of physiological range 40–300 mmHg; diastolic out of physiological range 20–200 mmHg',
      },
    ]);
  });

  it('separate columns win over a combined one, which is noted', async () => {
    const { data, plan } = await readAll(csv(['temp,BP,SBP,DBP,RR,SpO2', '37,1/1,121,79,14,98']));
    expect(plan.features.map((f) => f.source)).toEqual(['temp', 'SBP', 'DBP', 'RR', 'SpO2']);
    expect(plan.notes.some((note) => note.includes('combined column "BP" ignored'))).toBe(true);
    expect(data.values.map((column) => column[0])).toEqual([37, 121, 79, 14, 98]);
  });
});

describe('labels', () => {
  it('maps yes/no style labels automatically, empty is unknown', async () => {
    const path = csv([
      `${VITALS_HEADER},outcome`,
      ...['1', '0', 'TRUE', 'false', 'Yes', 'no', 'y', 'N', 'at risk', 'Healthy', 'High', 'low', 'positive', 'NEGATIVE', ''].map(
        (label) => `37,120,80,14,98,${label}`,
      ),
    ]);
    const { data, plan } = await readAll(path);
    expect(plan.label).toEqual({ source: 'outcome', positive: null });
    expect(Array.from(data.labels ?? [])).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, Number.NaN]);
  });

  it('with positive, that text (case-insensitive, trimmed) is 1 and other text 0', async () => {
    const path = csv([`${VITALS_HEADER},Grade`, ...['High Risk', ' high risk ', 'mid risk', 'low risk', ''].map((g) => `37,120,80,14,98,${g}`)]);
    const { data, plan } = await readAll(path, { label: 'grade', positive: 'HIGH RISK' });
    expect(plan.label).toEqual({ source: 'Grade', positive: 'HIGH RISK' });
    expect(Array.from(data.labels ?? [])).toEqual([1, 1, 0, 0, Number.NaN]);
  });

  it('warns in the plan when the positive value is not in the sample', async () => {
    const plan = await planColumns(csv([`${VITALS_HEADER},risk`, '37,120,80,14,98,mid']), { positive: 'hihg' });
    expect(plan.notes.some((note) => note.startsWith('label: warning, the positive value does not occur'))).toBe(true);
  });

  it('text labels without positive fail the plan with a count of values but not the values', async () => {
    const path = csv([`${VITALS_HEADER},risk`, ...['Secretish', 'Quietly', 'Quietly', 'Hushed'].map((v) => `37,120,80,14,98,${v}`)]);
    const error: unknown = await planColumns(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CsvValidationError);
    const { issues, message } = error as CsvValidationError;
    expect(issues).toHaveLength(1);
    expect(issues[0]?.column).toBe('risk');
    expect(issues[0]?.message).toMatch(/has 3 distinct values .* pass the value that means at-risk as positive/);
    for (const value of ['Secretish', 'Quietly', 'Hushed']) expect(message + issues[0]?.message).not.toContain(value);
    // readRecords reports the same failure through both the plan and the chunks.
    const reading = readRecords(path);
    await expect(reading.plan).rejects.toBeInstanceOf(CsvValidationError);
    await expect(reading.chunks.next()).rejects.toBeInstanceOf(CsvValidationError);
  });

  it('an unrecognised label after the sample is a row issue', async () => {
    const rows = Array.from({ length: 300 }, () => '37,120,80,14,98,yes');
    const error = await validationError(csv([`${VITALS_HEADER},label`, ...rows, '37,120,80,14,98,Quietus']));
    expect(error.issues).toEqual([
      {
        file: error.file,
        row: 302,
        column: 'label',
        problem: 'label value not recognised; pass the value that means at-risk as positive',
        message: 'row 302, column "label": label value not recognised; pass the value that means at-risk as positive',
      },
    ]);
  });
});

describe('missing values', () => {
  const lines = [
    'id,temp,sbp,dbp,rr,spo2',
    'a,37,120,80,14,98',
    'b,,120,80,14,98',
    'c,37,NA,80,14,98',
    'd,37,120,80,n/a,?',
    'e,37,120,80,14,98',
    'f,37,120,80,14,-',
  ];

  it("'reject' reports every missing cell with its row and column", async () => {
    const error = await validationError(csv(lines));
    expect(error.issues.map(({ row, column, message }) => [row, column, message])).toEqual([
      [3, 'temp', 'row 3, column "temp": missing value'],
      [4, 'sbp', 'row 4, column "sbp": missing value'],
      [5, 'rr', 'row 5, column "rr": missing value'],
      [5, 'spo2', 'row 5, column "spo2": missing value'],
      [7, 'spo2', 'row 7, column "spo2": missing value'],
    ]);
    expect(error.totalIssues).toBe(5);
  });

  it("'drop' skips and counts those rows", async () => {
    const { data, summary } = await readAll(csv(lines), { missing: 'drop' });
    expect(data.patientIds).toEqual(['a', 'e']);
    expect(Array.from(data.rowNumbers)).toEqual([2, 6]);
    expect(summary).toMatchObject({ rows: 2, dropped: 4 });
  });

  it("'drop' still reports text in numeric columns", async () => {
    const error = await validationError(csv([...lines, 'g,abc,,80,14,98']), { missing: 'drop' });
    expect(error.issues.map(({ row, column }) => [row, column])).toEqual([[8, 'temp']]);
  });

  it('a missing hospital or patient id follows the same rule', async () => {
    const path = csv(['hospital,mrn,temp,sbp,dbp,rr,spo2', 'H1,a,37,120,80,14,98', ',b,37,120,80,14,98', 'H1,NA,37,120,80,14,98']);
    const error = await validationError(path);
    expect(error.issues.map(({ row, column }) => [row, column])).toEqual([[3, 'hospital'], [4, 'mrn']]);
    const { summary, data } = await readAll(path, { missing: 'drop' });
    expect(summary.dropped).toBe(2);
    expect(data.hospitalIds).toEqual(['H1']);
  });
});

describe('row issues', () => {
  it('reports exact physical rows, also after blank lines and a quoted multi-line field in a CRLF file', async () => {
    const path = csv(
      ['mrn,note,temp,sbp,dbp,rr,spo2', 'a,"line one\r\nline two",37,120,80,14,98', '', 'b,x,37,120,80,14,30', 'c,x,37,120,80,99,98'],
      { eol: '\r\n' },
    );
    const error = await validationError(path);
    expect(error.issues.map(({ row, column, message }) => [row, column, message])).toEqual([
      [5, 'spo2', 'row 5, column "spo2": out of physiological range 40–100 %'],
      [6, 'rr', 'row 6, column "rr": out of physiological range 2–80 breaths/min'],
    ]);
  });

  it('keeps the first 50 issues and counts all of them', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? '37,120,80,14,98' : '37,120,80,14,abc'));
    const error = await validationError(csv([VITALS_HEADER, ...rows]));
    expect(error.totalIssues).toBe(60);
    expect(error.issues).toHaveLength(50);
    expect(error.issues[0]).toMatchObject({ row: 3, column: 'spo2', message: 'row 3, column "spo2": not a number' });
    expect(error.issues[49]?.row).toBe(101);
    expect(error.message).toContain('(60 issues in total)');
  });

  it('never puts cell values into messages', async () => {
    // Label texts have their own test: an unknown one in the sample fails the plan before any row is read.
    const secrets = ["=cmd|' /C calc'!A0", 'SecretTemp', '777.25', '1e400', 'Infinity', '0.31', 'John Doe 1950'];
    const path = csv([
      'patient_id,temp,sbp,dbp,rr,spo2,outcome',
      `"John Doe 1950",${secrets[1]},120,80,14,98,yes`,
      `x2,37,${secrets[2]},80,14,98,no`,
      `x3,37,120,80,${secrets[3]},98,no`,
      `x4,37,120,80,14,${secrets[4]},no`,
      `x5,37,120,80,14,${secrets[5]},no`,
      `x6,"${secrets[0]}",120,80,14,98,no`,
      '"John Doe 1950",37,120,80,14,98,no',
    ]);
    const error = await validationError(path);
    expect(error.totalIssues).toBe(7);
    const text = [error.message, ...error.issues.map((issue) => issue.message)].join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('777');
    expect(error.issues.map((issue) => issue.message)).toEqual([
      'row 2, column "temp": not a number',
      'row 3, column "sbp": out of physiological range 40–300 mmHg',
      'row 4, column "rr": not a finite number',
      'row 5, column "spo2": not a finite number',
      'row 6, column "spo2": out of physiological range 40–100 %',
      'row 7, column "temp": not a number',
      'row 8, column "patient_id": duplicate patient id (first seen on row 2)',
    ]);
  });

  it('reports rows whose field count differs from the header; empty trailing fields are tolerated', async () => {
    const path = csv([VITALS_HEADER, '37,120,80,14', '37,120,80,14,98,5', '37,120,80,14,98,,', '37,120,80,14,98']);
    const error = await validationError(path);
    expect(error.issues.map(({ row, column, message }) => [row, column, message])).toEqual([
      [2, null, 'row 2: has 4 fields but the header has 5'],
      [3, null, 'row 3: has 6 fields but the header has 5'],
    ]);
  });

  it('keeps formula-like ids as text, unchanged', async () => {
    const { data } = await readAll(csv(['id,temp,sbp,dbp,rr,spo2', `"=cmd|' /C calc'!A0",37,120,80,14,98`, '@SUM(1),37,120,80,14,98']));
    expect(data.patientIds).toEqual(["=cmd|' /C calc'!A0", '@SUM(1)']);
  });

  it('duplicate patient ids are issues within a hospital, not across hospitals', async () => {
    const path = csv(['site,mrn,temp,sbp,dbp,rr,spo2', 'A,1,37,120,80,14,98', 'B,1,37,120,80,14,98', 'A,1,37,120,80,14,98']);
    const error = await validationError(path);
    expect(error.issues.map(({ row, column, message }) => [row, column, message])).toEqual([
      [4, 'mrn', 'row 4, column "mrn": duplicate patient id (first seen on row 2)'],
    ]);
  });

  it('broken quoting stops the read with the line and without the text', async () => {
    const error = await validationError(csv([VITALS_HEADER, '37,120,80,14,abc', '37,"120"Zebra,80,14,98', '37,120,80,14,98']));
    expect(error.issues.map(({ row, column }) => [row, column])).toEqual([[2, 'spo2'], [3, null]]);
    expect(error.issues[1]?.message).toBe('row 3: text follows a closing quote; reading stopped here');
    expect(error.issues.map((issue) => issue.message).join()).not.toContain('Zebra');

    const header = await planColumns(csv(['"temp"x,sbp', '37,120'])).catch((e: unknown) => e);
    expect((header as CsvValidationError).issues[0]).toMatchObject({ row: 1, column: null });
  });

  it('yields no chunks once a row is bad, but still validates the rest', async () => {
    const path = csv([VITALS_HEADER, '37,120,80,14,98', '37,120,80,14,abc', '37,120,80,14,98', '37,120,80,1,98']);
    const reading = readRecords(path, { chunkRows: 1 });
    const first = await reading.chunks.next();
    expect(first.done).toBe(false);
    const rest = reading.chunks.next();
    await expect(rest).rejects.toBeInstanceOf(CsvValidationError);
    const error = (await rest.catch((caught: unknown) => caught)) as CsvValidationError;
    expect(error.issues.map(({ row }) => row)).toEqual([3, 5]);
  });
});

describe('plan decisions', () => {
  it('forced vitals names the missing vitals and the header found', async () => {
    const error: unknown = await planColumns(csv(['temp,hr,spo2', '37,80,98']), { schema: 'vitals' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvValidationError);
    expect((error as CsvValidationError).issues[0]?.message).toBe(
      'the vitals schema needs systolic_bp, diastolic_bp, respiratory_rate, which the header lacks; columns are "temp", "hr", "spo2"',
    );
  });

  it('recognises each known quantity on its own, whatever else the file holds, and takes other columns as given', async () => {
    const path = csv(['Patient, Age ,BodyTemp,Glucose (mg/dL),Ward,Outcome', 'p1,34,98.6,90,East,1', 'p2,50,NA,110,West,0']);
    const plan = await planColumns(path);
    expect(plan.schema).toBe('auto');
    expect(plan.patientColumn).toBe('Patient');
    expect(plan.label).toEqual({ source: 'Outcome', positive: null });
    expect(plan.features).toEqual([
      { name: 'Age', source: 'Age', unit: '' },
      { name: 'temperature', source: 'BodyTemp', unit: '°C', range: [25, 45], recognisedAs: 'temperature', sourceUnit: { id: 'F', label: '°F', from: 'values' }, unitChoices: [{ id: 'C', label: '°C' }, { id: 'F', label: '°F' }], conversion: '°F → °C' },
      { name: 'glucose', source: 'Glucose (mg/dL)', unit: 'mmol/L', range: [18 / 18.016, 1080 / 18.016], recognisedAs: 'glucose', sourceUnit: { id: 'mg/dL', label: 'mg/dL', from: 'header' }, unitChoices: [{ id: 'mmol/L', label: 'mmol/L' }, { id: 'mg/dL', label: 'mg/dL' }], conversion: 'mg/dL → mmol/L' },
    ]);
    expect(plan.notes).toContain('"Ward": not numeric in the sample; not used as a feature');
    const { data } = await readAll(path, { missing: 'drop' });
    expect(data.values.map((column) => Number(column[0]?.toFixed(6)))).toEqual([34, 37, Number((90 / 18.016).toFixed(6))]);
  });

  it('the generic schema takes every column as given, a declared range is checked, an unknown column in an option is an error', async () => {
    const path = csv(['Patient,Age,BodyTemp,Outcome', 'p1,34,98.6,1', 'p2,150,99.1,0']);
    const { plan } = await readAll(path, { schema: 'generic', ranges: { Age: [0, 120] }, missing: 'drop' }).catch((e: unknown) => ({ plan: null, e }));
    expect(plan).toBeNull();
    const ranged = await validationError(path, { schema: 'generic', ranges: { Age: [0, 120] } });
    expect(ranged.issues.map((i) => i.message)).toEqual(['row 3, column "Age": out of the declared range 0–120']);
    const generic = await planColumns(path, { schema: 'generic' });
    expect(generic.features.map((f) => [f.name, f.unit, f.recognisedAs])).toEqual([
      ['Age', '', undefined],
      ['BodyTemp', '', undefined],
    ]);
    const unknown: unknown = await planColumns(path, { units: { Weight: 'kg' } }).catch((e: unknown) => e);
    expect((unknown as CsvValidationError).issues[0]?.message).toMatch(/unit or range column "Weight" is not in the header/);
  });

  it('a declared range includes both ends, refuses just outside them, and must run from low to high', async () => {
    const path = csv(['Patient,Age,Outcome', 'p1,0,1', 'p2,120,0', 'p3,-0.5,0', 'p4,120.5,1']);
    const ranged = await validationError(path, { schema: 'generic', ranges: { Age: [0, 120] } });
    expect(ranged.issues.map((i) => i.message)).toEqual(['row 4, column "Age": out of the declared range 0–120', 'row 5, column "Age": out of the declared range 0–120']);
    const ends = csv(['Patient,Age,Outcome', 'p1,0,1', 'p2,120,0']);
    const { data } = await readAll(ends, { schema: 'generic', ranges: { Age: [0, 120] } });
    expect([...data.values[0]!]).toEqual([0, 120]);
    for (const bad of [[120, 0], [5, 5], [Number.NaN, 3], [0, Number.POSITIVE_INFINITY]] as [number, number][]) {
      await expect(readAll(ends, { schema: 'generic', ranges: { Age: bad } })).rejects.toThrow(/the range of "Age" must run from a low to a higher number/);
    }
  });

  it('weight, height and glucose: the unit from the header, the values, or --unit; an ambiguous column asks', async () => {
    const path = csv(['id,Weight,Height (in),BloodSugar,label', 'a,70,65,5.5,1', 'b,82,70,6.1,0', 'c,95,72,7.2,0']);
    const asked = await validationError(path);
    expect(asked.issues[0]?.message).toMatch(/column "Weight": weight: the header names no unit and the column has values that could be kg or lb .*--unit "Weight=kg"/);
    const { plan, data } = await readAll(path, { units: { weight: 'lbs' } });
    expect(plan.features.map((f) => [f.name, f.sourceUnit?.label, f.sourceUnit?.from, f.unit])).toEqual([
      ['weight', 'lb', 'option', 'kg'],
      ['height', 'in', 'header', 'cm'],
      ['glucose', 'mmol/L', 'values', 'mmol/L'],
    ]);
    expect(Number(data.values[0]![0]!.toFixed(4))).toBe(Number((70 * 0.45359237).toFixed(4)));
    expect(Number(data.values[1]![0]!.toFixed(4))).toBe(Number((65 * 2.54).toFixed(4)));
    const wrong: unknown = await planColumns(path, { units: { Weight: 'stone' } }).catch((e: unknown) => e);
    expect((wrong as CsvValidationError).issues[0]?.message).toMatch(/unit "stone" is not one of weight's units \(kg, lb\)/);
  });

  it('explicit generic features must exist; the error lists the available columns', async () => {
    const path = csv(['a,b,label', '1,2,0']);
    const { plan } = await readAll(path, { features: ['b'] });
    expect(plan.features.map((f) => f.name)).toEqual(['b']);
    const error: unknown = await planColumns(path, { features: ['b', 'c'] }).catch((e: unknown) => e);
    expect((error as CsvValidationError).issues[0]?.message).toBe(
      'feature column "c" is not in the header; columns are "a", "b", "label"',
    );
  });

  it('a combined BP column in a generic file becomes two features', async () => {
    const { plan, data } = await readAll(csv(['age,BP', '40,130/85']), { schema: 'generic' });
    expect(plan.features.map((f) => f.name)).toEqual(['age', 'BP systolic', 'BP diastolic']);
    expect(data.values.map((column) => column[0])).toEqual([40, 130, 85]);
  });

  it('uses the hospital option when there is no hospital column', async () => {
    const { data, plan } = await readAll(csv([VITALS_HEADER, '37,120,80,14,98'], { name: 'st-mary.csv' }), { hospital: 'H-9' });
    expect(plan.hospitalColumn).toBeNull();
    expect(data.hospitalIds).toEqual(['H-9']);
    expect(data.patientIds).toEqual(['st-mary-2']);
  });

  it('rejects UTF-16 files and files without a header', async () => {
    const utf16 = join(dir, 'utf16.csv');
    writeFileSync(utf16, Buffer.from(`\uFEFF${VITALS_HEADER}\n`, 'utf16le'));
    await expect(planColumns(utf16)).rejects.toThrow(/UTF-16/);
    await expect(planColumns(csv(['', '  ', ',,']))).rejects.toThrow(/no header/);
  });
});

describe('streaming', () => {
  const rows = Array.from({ length: 10 }, (_, i) => `${36 + i / 10},${100 + i},70,14,98`);

  it('yields chunks of chunkRows and a summary with the SHA-256 of the raw bytes', async () => {
    const path = csv([VITALS_HEADER, ...rows, '']);
    const reading = readRecords(path, { chunkRows: 4 });
    const sizes: number[] = [];
    const systolic: number[] = [];
    let step = await reading.chunks.next();
    while (!step.done) {
      sizes.push(step.value.rowNumbers.length);
      systolic.push(...(step.value.values[1] ?? []));
      step = await reading.chunks.next();
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(systolic).toEqual(rows.map((_, i) => 100 + i));
    expect(step.value).toEqual({
      rows: 10,
      dropped: 0,
      sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
      rejected: { rows: 0, issues: [], cells: null },
    });
    expect((await reading.plan).schema).toBe('vitals');
  });

  it('readAll concatenates the chunks', async () => {
    const path = csv([VITALS_HEADER, ...rows]);
    const { data } = await readAll(path, { chunkRows: 3 });
    expect(Array.from(data.rowNumbers)).toEqual(rows.map((_, i) => i + 2));
    expect(Array.from(data.values[1] ?? [])).toEqual(rows.map((_, i) => 100 + i));
  });

  it('an aborted signal stops the read with an AbortError', async () => {
    const path = csv([VITALS_HEADER, ...rows]);
    const before = new AbortController();
    before.abort();
    await expect(readAll(path, { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });

    const during = new AbortController();
    const reading = readRecords(path, { chunkRows: 2, signal: during.signal });
    expect((await reading.chunks.next()).done).toBe(false);
    during.abort(new Error('user closed the window'));
    await expect(reading.chunks.next()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects a non-positive chunkRows', () => {
    expect(() => readRecords('unused.csv', { chunkRows: 0 })).toThrow(RangeError);
  });
});
