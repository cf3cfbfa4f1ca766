import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PatientPrediction, ResultQuery } from '../../src-preload/contract.ts';
import { naturalKey, stableOrder } from '../../src-main/services/decrypted-run.ts';
import { heldRunOf } from '../helpers/decrypted-run.ts';

type Row = Omit<PatientPrediction, 'atRisk'>;
const row = (hospital: string, patientId: string, probability: number): Row => ({ batchId: 1, hospital, patientId, probability });

const ROWS: Row[] = [
  row('H-NORTH', 'P-0002', 0.12),
  row('H-SOUTH', 'P-0017', 0.91),
  row('H-NORTH', 'P-0010', 0.55),
  row('H-CENTRAL', 'P-0008', 0.03),
  row('H-SOUTH', 'P-0014', 0.49),
];

const query = (q: Partial<Omit<ResultQuery, 'runId'>> = {}): ResultQuery => ({
  runId: 7,
  offset: 0,
  limit: 500,
  sort: { key: 'probability', direction: 'desc' },
  filter: { text: '', atRiskOnly: false },
  ...q,
});

const ids = (q: Partial<Omit<ResultQuery, 'runId'>>, rows: Row[] = ROWS) => heldRunOf(7, rows).page(query(q)).rows.map((r) => r.patientId);

/*
 * The reference: the order and filter the results table promises, written the obvious way over row objects
 * (natural order of IDs and hospitals, ties in stored order, a descending order the ascending one reversed).
 */
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
function reference(rows: readonly Row[], q: ResultQuery): Row[] {
  const needle = q.filter.text.trim().toLowerCase();
  const indexed = rows
    .map((r, i) => ({ ...r, i }))
    .filter((r) => (!q.filter.atRiskOnly || r.probability >= 0.5) && (r.hospital.toLowerCase().includes(needle) || r.patientId.toLowerCase().includes(needle)));
  const byId = (a: Row, b: Row) => natural.compare(a.patientId, b.patientId);
  const compare = {
    probability: (a: Row, b: Row) => a.probability - b.probability,
    atRisk: (a: Row, b: Row) => a.probability - b.probability,
    patientId: byId,
    hospital: (a: Row, b: Row) => natural.compare(a.hospital, b.hospital) || byId(a, b),
  }[q.sort.key];
  const sorted = indexed.sort((a, b) => compare(a, b) || a.i - b.i);
  if (q.sort.direction === 'desc') sorted.reverse();
  return sorted.slice(q.offset, q.offset + q.limit).map(({ i: _, ...r }) => r);
}

describe('the orders a held run sorts by', () => {
  it('stableOrder is the stable numeric order of any finite numbers, -0 equal to 0 (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 0.5, -1, 1e-300)), { maxLength: 300 }), (xs) => {
        const want = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
        expect([...stableOrder(Float64Array.from(xs))]).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  it('naturalKey orders IDs as people read them', () => {
    const ids = ['P10', 'p9', 'P-2', 'P009a', 'P9b', 'P000', 'P0', 'Q1', 'P1.5', 'P1.10'];
    const byKey = [...ids].sort((a, b) => (naturalKey(a) < naturalKey(b) ? -1 : naturalKey(a) > naturalKey(b) ? 1 : 0));
    expect(byKey).toEqual(['P-2', 'P000', 'P0', 'P1.5', 'P1.10', 'p9', 'P009a', 'P9b', 'P10', 'Q1']);
  });
});

describe('a decrypted run held in main', () => {
  it('counts its patients and those at risk', () => {
    const run = heldRunOf(7, ROWS);
    expect([run.patients, run.atRisk]).toEqual([5, 2]);
  });

  it('filters by hospital or patient ID, case-insensitively, and by at-risk', () => {
    expect(ids({ filter: { text: 'south', atRiskOnly: false } })).toEqual(['P-0017', 'P-0014']);
    expect(ids({ filter: { text: 'p-001', atRiskOnly: true } })).toEqual(['P-0017', 'P-0010']);
    expect(ids({ filter: { text: '  ', atRiskOnly: true } })).toEqual(['P-0017', 'P-0010']);
  });

  it('sorts each column both ways, IDs in natural order', () => {
    expect(ids({ sort: { key: 'probability', direction: 'asc' } })).toEqual(['P-0008', 'P-0002', 'P-0014', 'P-0010', 'P-0017']);
    expect(ids({ sort: { key: 'hospital', direction: 'asc' } })).toEqual(['P-0008', 'P-0002', 'P-0010', 'P-0014', 'P-0017']);
    expect(ids({ sort: { key: 'patientId', direction: 'desc' } })).toEqual(['P-0017', 'P-0014', 'P-0010', 'P-0008', 'P-0002']);
    expect(ids({ sort: { key: 'atRisk', direction: 'desc' } }).slice(0, 2)).toEqual(['P-0017', 'P-0010']);
    const mixed = [row('H', 'P10', 0.1), row('H', 'P9', 0.2), row('H', 'p100', 0.3), row('H', 'P-1', 0.4)];
    expect(ids({ sort: { key: 'patientId', direction: 'asc' } }, mixed)).toEqual(['P-1', 'P9', 'P10', 'p100']);
  });

  it('pages: a slice of the filtered order, with the count of every matching row', () => {
    const many = Array.from({ length: 1234 }, (_, i) => row(`H-${i % 3}`, `P-${i}`, (i * 37) % 1000 / 1000));
    const run = heldRunOf(7, many);
    const last = run.page(query({ offset: 1200, limit: 100 }));
    expect(last.matching).toBe(1234);
    expect(last.rows).toHaveLength(34);
    expect(run.page(query({ offset: 5000, limit: 100 })).rows).toEqual([]);
    const atRisk = run.page(query({ filter: { text: '', atRiskOnly: true }, limit: 1 }));
    expect(atRisk.matching).toBe(run.atRisk);
  });

  it('agrees with the reference on every query (property)', () => {
    const rowArb = fc.record({
      batchId: fc.constant(1),
      hospital: fc.constantFrom('H-alpha', 'H-Beta', 'h-gamma', 'Clinic 2', 'Clinic 10'),
      patientId: fc.stringMatching(/^[A-Za-z]{0,2}-?\d{0,4}[a-z]?$/),
      probability: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)),
    });
    const queryArb = fc.record({
      runId: fc.constant(7),
      offset: fc.nat(40),
      limit: fc.integer({ min: 1, max: 30 }),
      sort: fc.record({ key: fc.constantFrom('hospital', 'patientId', 'probability', 'atRisk'), direction: fc.constantFrom('asc', 'desc') }),
      filter: fc.record({ text: fc.constantFrom('', 'h-', 'BETA', '1', 'clinic 1', ' a '), atRiskOnly: fc.boolean() }),
    }) as fc.Arbitrary<ResultQuery>;
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 60 }), fc.array(queryArb, { minLength: 1, maxLength: 4 }), (rows, queries) => {
        // One held run answers several queries in a row, as the table asks them (cached orders included).
        const run = heldRunOf(7, rows);
        for (const q of queries) {
          const page = run.page(q);
          expect(page.rows.map(({ atRisk: _, ...r }) => r)).toEqual(reference(rows, q));
          expect(page.matching).toBe(reference(rows, { ...q, offset: 0, limit: rows.length + 1 }).length);
          for (const r of page.rows) expect(r.atRisk).toBe(r.probability >= 0.5);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('destroy zeroes the probabilities it held and refuses every later page', () => {
    const probabilities = Float64Array.from(ROWS, (r) => r.probability);
    const run = heldRunOf(7, ROWS);
    // The very buffer the run holds, read by reflection: it must be zero afterwards, not merely unreachable.
    const held = (run as unknown as { columns: { probabilities: Float64Array } }).columns.probabilities;
    run.page(query({ sort: { key: 'patientId', direction: 'asc' } }));
    const order = (run as unknown as { orders: Map<string, Uint32Array> }).orders.get('patientId')!;
    expect(held).toEqual(probabilities);
    run.destroy();
    expect(held.every((x) => x === 0)).toBe(true);
    expect(order.every((x) => x === 0)).toBe(true);
    expect(run.held).toBe(false);
    expect(() => run.page(query())).toThrow(/cleared \(locked\): decrypt the run again/);
  });
});
