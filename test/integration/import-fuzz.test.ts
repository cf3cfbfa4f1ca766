import { caller } from '../helpers/caller.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvValidationError } from '../../src-main/ingest/index.ts';
import type { ImportResult } from '../../src-preload/contract.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet } from '../../src-main/services/key-sets.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { countPatients, getBatch } from '../../src-main/store/batches.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { partialBatches, tableCounts } from '../helpers/store.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/*
 * Property tests of the real importer (CSV reader, validation, CKKS encryption, SQLite) on generated files. The
 * expected outcome is computed here from how each file was generated, independently of the importer's code.
 */

type Vital = 'temperature' | 'systolic' | 'diastolic' | 'respiratory' | 'spo2' | 'heart';
type Role = Vital | 'hospital' | 'patient' | 'label' | 'junk';

/** Header spellings a hospital export might use; each must be recognised as its role. */
const HEADERS: Record<Role, readonly string[]> = {
  temperature: ['temperature_c', 'Temp', 'Body Temp (°C)', 'TEMPERATURE'],
  systolic: ['systolic_bp', 'SBP', 'Systolic (mmHg)', 'sys'],
  diastolic: ['diastolic_bp', 'DBP', 'Diastolic', 'dia'],
  respiratory: ['respiratory_rate', 'RR', 'Resp Rate', 'respirations'],
  spo2: ['spo2', 'SpO2 (%)', 'O2 Sat', 'sats'],
  heart: ['heart_rate', 'HR', 'Pulse'],
  hospital: ['hospital_id', 'Site', 'Facility'],
  patient: ['patient_id', 'MRN', 'Subject ID'],
  label: ['at_risk', 'Label', 'Outcome'],
  junk: ['notes', 'ward', 'Comment', 'bed', 'Unnamed: 9'],
};
const REQUIRED: readonly Vital[] = ['temperature', 'systolic', 'diastolic', 'respiratory', 'spo2'];
const VITALS: readonly Vital[] = [...REQUIRED, 'heart'];
const OPTIONAL: readonly Role[] = ['heart', 'hospital', 'patient', 'label'];

const FORMULA = "=cmd|' /C calc'!A0";
/** Spellings of "no measurement". */
const MISSING = ['', 'NA', 'NaN', 'null', '-', '?', '  '];
/** Cells no vital sign or label can be: not numbers, not finite, or far out of any physiological range. */
const BAD = [
  'Infinity', '-Infinity', 'inf', '1e400', '-1e400', '1e308', '99999999999999999999', '-5',
  FORMULA, "@SUM(1+1)*cmd|' /C calc'!A0", '+1+1', 'abc', '0x1F', '36.6.1',
];
/** Whatever a column the importer ignores may hold, including what needs quoting. */
const JUNK = [...BAD, ...MISSING, 'free text, with "quotes"', 'two\nlines', 'tab\there', 'x;y', '12'];

const tmp = tempDir('homopai-fuzz-');
let ws: Workspace;
let files = 0;

beforeAll(async () => {
  ws = Workspace.open(join(tmp.dir, 'ws'));
  await createKeySet(caller(ws), 'standard', () => new PassphraseVault(ws.dir, PASSPHRASE));
});

afterAll(() => {
  ws[Symbol.dispose]();
  tmp[Symbol.dispose]();
});

type Outcome = { imported: ImportResult } | { rejected: CsvValidationError };

/** Runs the real import; anything but a result or a CsvValidationError fails the property. */
async function runImport(text: string, missing: 'reject' | 'drop'): Promise<{ outcome: Outcome; file: string }> {
  const file = `fuzz-${++files}.csv`;
  writeFileSync(join(tmp.dir, file), text);
  try {
    return { outcome: { imported: await importCsv(caller(ws), join(tmp.dir, file), { missing, duplicates: 'allow' }) }, file };
  } catch (e) {
    if (e instanceof CsvValidationError) return { outcome: { rejected: e }, file };
    throw e;
  }
}

/** What holds after any import: a reported batch is stored exactly as reported, a rejection stores nothing. */
function checkStored(outcome: Outcome, before: Record<string, number>, file: string): void {
  const after = tableCounts(ws.db);
  if ('rejected' in outcome) {
    expect(after).toEqual(before);
    const { issues, totalIssues } = outcome.rejected;
    expect(issues.length).toBeGreaterThan(0);
    expect(totalIssues).toBeGreaterThanOrEqual(issues.length);
    for (const issue of issues) {
      expect(issue.file).toBe(file);
      expect(Number.isInteger(issue.row) && issue.row >= 0).toBe(true);
      // Messages name rows, columns and rules, never what a cell held.
      for (const cell of [FORMULA, '1e400', '99999999999999999999', 'abc']) expect(issue.message).not.toContain(cell);
    }
  } else {
    const r = outcome.imported;
    expect(r.rows).toBeGreaterThan(0);
    expect(getBatch(ws.db, r.batchId)).toMatchObject({ rows: r.rows, dropped: r.dropped, labeledRows: r.labeledRows });
    expect(countPatients(ws.db, r.batchId)).toBe(r.rows);
    expect(after['batches']).toBe(before['batches']! + 1);
    expect(after['patients']).toBe(before['patients']! + r.rows);
  }
  expect(partialBatches(ws.db, ws.rowMac())).toEqual([]);
}

function quoted(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** One valid reading per vital, in one of the spellings exports use. */
const readingArb = fc.record({
  temperature: fc.integer({ min: 350, max: 410 }),
  systolic: fc.integer({ min: 100, max: 170 }),
  pulsePressure: fc.integer({ min: 15, max: 50 }),
  respiratory: fc.integer({ min: 10, max: 30 }),
  spo2: fc.integer({ min: 88, max: 100 }),
  heart: fc.integer({ min: 50, max: 130 }),
  hospital: fc.constantFrom('H-1', 'H-2', FORMULA),
  label: fc.constantFrom('1', '0', 'yes', 'no', 'TRUE', 'False', ''),
  junk: fc.constantFrom(...JUNK),
  style: fc.constantFrom('plain', 'exponent', 'sign', 'padded', 'decimal-comma'),
});
type Reading = typeof readingArb extends fc.Arbitrary<infer T> ? T : never;

function vitalText(vital: Vital, r: Reading, delimiter: string, spo2Fraction: boolean): string {
  const value = {
    temperature: r.temperature / 10,
    systolic: r.systolic,
    diastolic: r.systolic - r.pulsePressure,
    respiratory: r.respiratory,
    spo2: r.spo2,
    heart: r.heart,
  }[vital];
  const plain = vital === 'temperature' ? value.toFixed(1) : String(value);
  // A unit is a column's, not a cell's: a file gives every saturation as a fraction, or none.
  if (vital === 'spo2' && spo2Fraction) return (value / 100).toFixed(2);
  switch (r.style) {
    case 'exponent':
      return `${value / 100}e2`;
    case 'sign':
      return `+${plain}`;
    case 'padded':
      return `  ${plain} `;
    case 'decimal-comma':
      // A decimal comma is only read as one where ';' separates the fields.
      return delimiter === ';' ? plain.replace('.', ',') : plain;
    default:
      return plain;
  }
}

const vitalsFileArb = fc.record({
  headers: fc.record(Object.fromEntries(Object.entries(HEADERS).map(([role, names]) => [role, fc.constantFrom(...names)])) as {
    [R in Role]: fc.Arbitrary<string>;
  }),
  optional: fc.subarray([...OPTIONAL]),
  junkColumns: fc.integer({ min: 0, max: 2 }),
  order: fc.integer({ min: 0, max: 1_000_000 }),
  rows: fc.array(readingArb, { minLength: 1, maxLength: 30 }),
  formulaPatientIds: fc.boolean(),
  spo2Fraction: fc.boolean(),
  // Cells replaced by a missing or a bad value, [row, column among the non-junk ones, value], and short rows:
  // in about half the files, so that about half import.
  damage: fc.oneof(
    fc.constant([]),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...MISSING, ...BAD)), { minLength: 1, maxLength: 3 }),
  ),
  shortRow: fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.nat(), weight: 1 }),
  blankLines: fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '   ', 'delimiters')), { maxLength: 3 }),
  delimiter: fc.constantFrom(',', ';', '\t'),
  bom: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  quoteEvery: fc.integer({ min: 0, max: 4 }),
  missing: fc.constantFrom('reject', 'drop') as fc.Arbitrary<'reject' | 'drop'>,
});
type VitalsFile = typeof vitalsFileArb extends fc.Arbitrary<infer T> ? T : never;

interface Expected {
  /** Rows that make the file be rejected, by physical line. */
  badLines: number[];
  rows: number;
  dropped: number;
  labeled: number;
}

/** Writes the file and works out, from how it was made, what the importer must do with it. */
function render(f: VitalsFile): { text: string; expected: Expected } {
  const roles: Role[] = [...REQUIRED, ...f.optional, ...Array.from({ length: f.junkColumns }, () => 'junk' as const)];
  // A deterministic shuffle from the drawn number, so shrinking keeps the order of a failing case.
  const order = roles.map((role, i) => ({ role, key: (i * 7919 + f.order) % 104_729 })).sort((a, b) => a.key - b.key);
  // A header that states percent would make fractions out of range: fractions come under a header without a unit.
  const header = (role: Role): string => (role === 'spo2' && f.spo2Fraction && f.headers.spo2 === 'SpO2 (%)' ? 'spo2' : f.headers[role]);
  const columns = order.map(({ role }, i) => ({ role, header: role === 'junk' ? `${f.headers.junk} ${i}` : header(role) }));
  const data = columns.flatMap((c, i) => (c.role === 'junk' ? [] : [i]));

  let cellCount = 0;
  const field = (text: string): string => {
    const mustQuote = /["\r\n]/.test(text) || text.includes(f.delimiter);
    return mustQuote || (f.quoteEvery > 0 && ++cellCount % f.quoteEvery === 0) ? quoted(text) : text;
  };

  const cells = f.rows.map((r, i) =>
    columns.map(({ role }) => {
      switch (role) {
        case 'hospital':
          return r.hospital;
        case 'patient':
          return f.formulaPatientIds ? `${FORMULA}${i}` : `P-${i}`;
        case 'label':
          return r.label;
        case 'junk':
          // Other numeric columns are features, taken as given; a column with text in it is not: the first row's
          // text (and the second's, should the first be short) keeps the junk columns out whatever the others hold.
          return i <= 1 ? 'free text' : r.junk;
        default:
          return vitalText(role, r, f.delimiter, f.spo2Fraction);
      }
    }),
  );
  for (const [row, column, value] of f.damage) cells[row % cells.length]![data[column % data.length]!] = value;

  const expected: Expected = { badLines: [], rows: 0, dropped: 0, labeled: 0 };
  const patientIds = new Set<string>();
  const isMissing = (t: string) => MISSING.includes(t);
  const isBad = (t: string) => BAD.includes(t);
  const lines = [columns.map((c) => field(c.header)).join(f.delimiter)];
  let line = 1;
  const blanksAfter = new Map(f.blankLines.map(([after, form]) => [after % f.rows.length, form]));
  cells.forEach((row, i) => {
    const short = f.shortRow !== null && f.shortRow % cells.length === i;
    const text = (short ? row.slice(0, -1) : row).map(field).join(f.delimiter);
    lines.push(text);
    line += 1;
    const lineOfRow = line;
    line += (text.match(/\r\n|\n/g) ?? []).length;
    const blank = blanksAfter.get(i);
    if (blank !== undefined) {
      lines.push(blank === 'delimiters' ? f.delimiter.repeat(columns.length - 1) : blank);
      line += 1;
    }

    let invalid = short;
    let absent = false;
    columns.forEach(({ role }, j) => {
      const t = row[j]!;
      if (role === 'hospital' || role === 'patient') absent ||= isMissing(t);
      else if (role === 'label') invalid ||= isBad(t);
      else if (role !== 'junk') {
        invalid ||= isBad(t);
        absent ||= isMissing(t);
      }
    });
    // Patient ids are unique per hospital (a row without one counts as hospital "unknown").
    const hospital = columns.findIndex((c) => c.role === 'hospital');
    const patient = columns.findIndex((c) => c.role === 'patient');
    if (!short && patient >= 0 && !isMissing(row[patient]!)) {
      const key = `${hospital >= 0 && !isMissing(row[hospital]!) ? row[hospital]!.trim() : 'unknown'}\u0000${row[patient]!.trim()}`;
      invalid ||= patientIds.has(key);
      patientIds.add(key);
    }
    if (invalid || (absent && f.missing === 'reject')) expected.badLines.push(lineOfRow);
    else if (absent) expected.dropped++;
    else {
      expected.rows++;
      const label = columns.findIndex((c) => c.role === 'label');
      if (label >= 0 && !isMissing(row[label]!)) expected.labeled++;
    }
  });
  return { text: `${f.bom ? '\uFEFF' : ''}${lines.join(f.eol)}${f.eol}`, expected };
}

describe('importing generated CSVs (property)', () => {
  it('imports exactly the valid rows it reports, or rejects the file by row and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(vitalsFileArb, async (f) => {
        const { text, expected } = render(f);
        // Files whose every row is dropped hit a known bug, pinned below.
        fc.pre(expected.rows > 0 || expected.badLines.length > 0);
        const before = tableCounts(ws.db);
        const { outcome, file } = await runImport(text, f.missing);
        checkStored(outcome, before, file);
        if (expected.badLines.length > 0) {
          expect('rejected' in outcome, 'the file should have been rejected').toBe(true);
          // Row 0 is the file as a whole: a label column whose sampled values are not labels.
          for (const issue of (outcome as { rejected: CsvValidationError }).rejected.issues) expect([0, ...expected.badLines]).toContain(issue.row);
        } else {
          expect(outcome).toMatchObject({ imported: { rows: expected.rows, dropped: expected.dropped, labeledRows: expected.labeled } });
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('never fails any other way on files of random headers and cells', async () => {
    // 1e308 would reach CKKS through the generic schema: a known bug, pinned below.
    const junk = fc.constantFrom(...JUNK.filter((c) => c !== '1e308'));
    // Mostly what the column's name promises, sometimes anything: enough files get through to encryption.
    const cellFor = (role: Role): fc.Arbitrary<string> => {
      const fitting = {
        hospital: fc.constantFrom('H-1', 'H-2', FORMULA),
        patient: fc.nat({ max: 10_000 }).map((n) => `P-${n}`),
        label: fc.constantFrom('1', '0', 'yes', 'no', ''),
        junk,
      }[role as string] ?? fc.constantFrom('36.6', '120', '80', '16', '97', '0.5', '-0', '1e30', '12.5', '-3', '1e-300');
      return fc.oneof({ arbitrary: fitting, weight: 30 }, { arbitrary: junk, weight: 1 });
    };
    const fileArb = fc
      .uniqueArray(fc.constantFrom(...(Object.keys(HEADERS) as Role[])), { minLength: 1, maxLength: 8 })
      .chain((roles) =>
        fc.record({
          header: fc.tuple(...roles.map((role) => fc.constantFrom(...HEADERS[role]))),
          rows: fc.array(
            fc.oneof(
              { arbitrary: fc.tuple(...roles.map(cellFor)), weight: 10 },
              { arbitrary: fc.array(junk, { maxLength: 10 }), weight: 1 },
            ),
            { minLength: 1, maxLength: 12 },
          ),
          delimiter: fc.constantFrom(',', ';', '\t'),
          bom: fc.boolean(),
        }),
      );
    await fc.assert(
      fc.asyncProperty(fileArb, async (f) => {
        // A file with no data row, or no column that can be a feature, hits a known bug pinned below.
        fc.pre(f.rows.some((r) => r.some((t) => t.trim() !== '')));
        fc.pre(f.header.some((name) => VITALS.some((v) => HEADERS[v].includes(name))));
        const row = (fields: string[]) => fields.map((t) => (/["\r\n]/.test(t) || t.includes(f.delimiter) ? quoted(t) : t)).join(f.delimiter);
        const text = `${f.bom ? '\uFEFF' : ''}${[f.header, ...f.rows].map(row).join('\n')}\n`;
        const before = tableCounts(ws.db);
        const { outcome, file } = await runImport(text, 'reject');
        checkStored(outcome, before, file);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

/*
 * Known importer bugs the properties above found: each is rejected with something other than a
 * CsvValidationError, so the app records no 'import-rejected' entry and shows no row-level issues. `it.fails`
 * keeps them visible without failing the suite; once fixed, it fails, and `.fails` and the matching exclusions
 * above should go.
 */
describe('known importer bugs', () => {
  async function rejection(text: string, missing: 'reject' | 'drop' = 'reject'): Promise<void> {
    const before = tableCounts(ws.db);
    const { outcome } = await runImport(text, missing);
    expect(outcome).toHaveProperty('rejected');
    expect(tableCounts(ws.db)).toEqual(before);
  }

  it('rejects a file with a header and no data rows as a CsvValidationError', () =>
    rejection('temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2\n'),
  );

  it('rejects a file whose every row is dropped as a CsvValidationError', () =>
    rejection('temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2\n36.6,120,80,16,NA\n', 'drop'),
  );

  it('rejects a file with no column to use as a feature', () =>
    rejection('hospital_id,patient_id,Label\nH-1,P-1,1\n'),
  );

  // At 1e308 the scaled value overflows a double and SEAL's WebAssembly traps instead (RuntimeError), after
  // which every CKKS call in the process fails: too dangerous to run inside this test process.
  it('rejects a generic value too large for CKKS as a CsvValidationError', () =>
    rejection('glucose,age\n1e40,50\n90,61\n'),
  );
});
