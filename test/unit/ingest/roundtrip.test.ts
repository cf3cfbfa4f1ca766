import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../../src-main/ingest/index.ts';
import { MAX_ENCRYPTABLE } from '../../../src-main/ckks/encrypt.ts';

const dir = mkdtempSync(join(tmpdir(), 'homopai-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// At least two columns: with one column there is nothing to sniff the delimiter from, and "1,5" is ambiguous.
const tableArbitrary = fc
  .integer({ min: 2, max: 5 })
  .chain((width) =>
    fc.record({
      width: fc.constant(width),
      rows: fc.array(
        fc.array(
          // Within what CKKS can encode (larger values are refused at their row, tested in fastpaths.test.ts).
          fc.double({ noNaN: true, min: -MAX_ENCRYPTABLE, max: MAX_ENCRYPTABLE }).map((value) => (value === 0 ? 0 : value)),
          { minLength: width, maxLength: width },
        ),
        { minLength: 1, maxLength: 25 },
      ),
      delimiter: fc.constantFrom(',', ';', '\t'),
      bom: fc.boolean(),
      eol: fc.constantFrom('\n', '\r\n'),
      // Per cell: quote it, pad it with spaces (outside the quotes), and for ';' files use a decimal comma.
      style: fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 200, maxLength: 200 }),
      blankAfter: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
    }),
  );

let fileCount = 0;

describe('CSV roundtrip (property)', () => {
  it('random numeric tables read back to the same numbers and rows', async () => {
    await fc.assert(
      fc.asyncProperty(tableArbitrary, async ({ width, rows, delimiter, bom, eol, style, blankAfter }) => {
        let styleIndex = 0;
        const cell = (text: string): string => {
          const [quote, pad, comma] = style[styleIndex++ % style.length] ?? [false, false, false];
          const written = comma && delimiter === ';' ? text.replace('.', ',') : text;
          const quoted = quote ? `"${written}"` : written;
          return pad ? `  ${quoted} ` : quoted;
        };
        const lines = [Array.from({ length: width }, (_, c) => cell(`feature ${c}`)).join(delimiter)];
        const expectedLines: number[] = [];
        rows.forEach((row, r) => {
          lines.push(row.map((value) => cell(String(value))).join(delimiter));
          expectedLines.push(lines.length);
          if (blankAfter[r]) lines.push('');
        });
        const path = join(dir, `roundtrip-${++fileCount}.csv`);
        writeFileSync(path, (bom ? '\uFEFF' : '') + lines.join(eol) + eol);

        const { plan, data, summary } = await readAll(path);
        expect(plan.delimiter).toBe(delimiter);
        expect(plan.features.map((f) => f.name)).toEqual(Array.from({ length: width }, (_, c) => `feature ${c}`));
        expect(summary.rows).toBe(rows.length);
        expect(Array.from(data.rowNumbers)).toEqual(expectedLines);
        for (let c = 0; c < width; c++) {
          expect(Array.from(data.values[c] ?? [])).toEqual(rows.map((row) => row[c]));
        }
      }),
      { numRuns: 150 },
    );
  });
});
