import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvValidationError, readAll } from '../../../src-main/ingest/index.ts';
import { isMissing, readNumber } from '../../../src-main/ingest/values.ts';
import { MAX_ENCRYPTABLE } from '../../../src-main/ckks/encrypt.ts';

// The reader takes shortcuts for the common case (plain decimals, ids in order, records without line breaks);
// these tests pin the shortcuts to the general rules they stand in for.

const dir = mkdtempSync(join(tmpdir(), 'homopai-fastpaths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function write(text: string): string {
  const path = join(dir, `f${++fileCount}.csv`);
  writeFileSync(path, text);
  return path;
}

async function issuesOf(path: string): Promise<{ row: number; column: string | null; message: string }[]> {
  const error: unknown = await readAll(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (error === null) return [];
  expect(error).toBeInstanceOf(CsvValidationError);
  return (error as CsvValidationError).issues.map(({ row, column, message }) => ({ row, column, message }));
}

describe('plain decimals', () => {
  it('read exactly as Number() reads them', () => {
    const digits = (max: number) => fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: max }).map((d) => d.join(''));
    const decimal = fc
      .tuple(fc.constantFrom('', '+', '-'), digits(18), fc.option(digits(18)), fc.constantFrom('.', ','))
      .map(([sign, whole, fraction, point]) => `${sign}${whole}${fraction === null ? '' : point + fraction}`);
    fc.assert(
      fc.property(decimal, fc.boolean(), (text, decimalComma) => {
        const cell = readNumber(text, decimalComma);
        const standard = decimalComma ? text.replace(',', '.') : text;
        const valid = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(standard);
        if (!valid) expect(cell.kind).not.toBe('number');
        // Beyond what CKKS can encode a number is refused with its own problem, at its row.
        else if (Math.abs(Number(standard)) > MAX_ENCRYPTABLE) expect(cell).toEqual({ kind: 'invalid', problem: expect.stringMatching(/too large to encrypt/) });
        else expect(cell).toEqual({ kind: 'number', value: Number(standard) });
      }),
      { numRuns: 5000 },
    );
  });

  it('missing tokens are found whatever their case or padding, other short cells are not missing', () => {
    for (const text of ['NA', ' nA ', 'N/A', 'NULL', 'Nan', '-', '?', '\u00a0na']) expect(isMissing(text)).toBe(true);
    for (const text of ['H-01', 'n', 'nul', 'no', '0', 'A', '--', 'nulls']) expect(isMissing(text)).toBe(false);
  });
});

describe('duplicate patient ids', () => {
  const header = 'site,mrn,temp,sbp,dbp,rr,spo2';
  const row = (site: string, mrn: string): string => `${site},${mrn},37,120,80,14,98`;

  // The rule the reader implements: a pair repeats when `${site}\0${mrn}` was seen before.
  function expectedDuplicates(pairs: readonly [string, string][]): { row: number; message: string }[] {
    const first = new Map<string, number>();
    const found: { row: number; message: string }[] = [];
    pairs.forEach(([site, mrn], index) => {
      const line = index + 2;
      const key = `${site.trim()}\u0000${mrn.trim()}`;
      const seen = first.get(key);
      if (seen === undefined) first.set(key, line);
      else found.push({ row: line, message: `row ${line}, column "mrn": duplicate patient id (first seen on row ${seen})` });
    });
    return found;
  }

  it('are found after thousands of ids in order, then out of order, per hospital', async () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 6000; i++) pairs.push([`S${i % 3}`, `P${String(i).padStart(5, '0')}`]);
    pairs.push(['S1', 'P00004'], ['S0', 'P00004'], ['S2', 'P00004'], ['S1', 'P99999'], ['S1', 'P00003']);
    for (let i = 0; i < 3000; i++) pairs.push([`S${i % 2}`, `Q${(i * 7919) % 2000}`]);
    const issues = await issuesOf(write([header, ...pairs.map(([site, mrn]) => row(site, mrn))].join('\n')));
    const expected = expectedDuplicates(pairs);
    expect(expected.length).toBeGreaterThan(50);
    expect(issues).toEqual(expected.slice(0, 50).map((issue) => ({ ...issue, column: 'mrn' })));
  });

  it('compare ids of any alphabet, and ids containing NUL as the joined key does', async () => {
    const ids = fc.constantFrom('a', 'b', 'ab', 'é', 'Ω', 'ж1', '\u0000', 'a\u0000b', 'b\u0000', '\u{1F600}', 'x');
    const sites = fc.constantFrom('S', 'S\u0000a', 'a', 'S\u0000', 'Ω');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(sites, ids), { minLength: 1, maxLength: 40 }), async (pairs) => {
        const issues = await issuesOf(write([header, ...pairs.map(([site, mrn]) => row(site, mrn))].join('\n')));
        expect(issues).toEqual(expectedDuplicates(pairs).map((issue) => ({ ...issue, column: 'mrn' })));
      }),
      { numRuns: 200 },
    );
  });
});

describe('row numbers', () => {
  it('stay exact across read chunks, with line breaks inside quoted fields and CRLF', async () => {
    const lines = ['mrn,note,temp,sbp,dbp,rr,spo2'];
    // Several times the 64 KiB read size, so quoted line breaks and CRLF pairs also fall on chunk boundaries.
    for (let i = 0; i < 9000; i++) {
      const note = i % 5 === 0 ? `"first\r\nsecond${'\r\n'.repeat(i % 3)}third"` : i % 7 === 0 ? '"one\rtwo"' : 'plain';
      lines.push(`p${i},${note},37,120,80,14,98`);
      if (i % 11 === 0) lines.push('');
    }
    lines.push('bad,plain,37,120,80,14,999');
    const text = lines.join('\r\n');
    const expectedRow = text.split(/\r\n|\r|\n/).length;
    expect(await issuesOf(write(text))).toEqual([
      { row: expectedRow, column: 'spo2', message: `row ${expectedRow}, column "spo2": out of physiological range 40–100 %` },
    ]);
  });
});
