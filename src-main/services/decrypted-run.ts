import type { PatientPrediction, ResultPage, ResultQuery } from '../../src-preload/contract.ts';

/*
 * A decrypted run held by the key holder's process, in columns: one Float64Array of probabilities and small
 * integer columns, never a million objects. The renderer reads it a page at a time (sorted and filtered here),
 * so per-patient results cross the process boundary a page at a time and leave nothing behind on Lock:
 * destroy() zeroes the probabilities and the orders derived from them.
 */

export interface RunColumns {
  runId: number;
  batchIds: Int32Array;
  /** Index into `hospitals`. */
  hospitalIndex: Uint32Array;
  hospitals: readonly string[];
  patientIds: readonly string[];
  probabilities: Float64Array;
}

/** A patient is shown as at risk from this probability up. */
export const AT_RISK_FROM = 0.5;

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * A string key whose plain ordering is the natural ordering of patient IDs ("P2" before "P10"): every run of
 * digits becomes its length (one character) and its digits without leading zeros. Built by hand, not with a
 * regular expression: a million IDs take a third of the time, and comparing keys with < is several times
 * faster than a collator.
 */
export function naturalKey(id: string): string {
  const s = id.toLowerCase();
  let key = '';
  let i = 0;
  while (i < s.length) {
    let end = i;
    if (isDigit(s.charCodeAt(i))) {
      while (end < s.length && isDigit(s.charCodeAt(end))) end++;
      let from = i;
      while (from < end - 1 && s.charCodeAt(from) === 48) from++;
      key += String.fromCharCode(48 + end - from) + s.slice(from, end);
    } else {
      while (end < s.length && !isDigit(s.charCodeAt(end))) end++;
      key += s.slice(i, end);
    }
    i = end;
  }
  return key;
}

/**
 * The stable ascending order of `values` (ties in index order), by a least-significant-digit radix sort on the
 * numbers' IEEE 754 bits (sign-adjusted so that unsigned order is numeric order): four passes of 16 bits, each
 * reading and writing arrays in sequence. A comparator sorting indices reads the values at random and takes
 * several times longer on a million.
 */
export function stableOrder(values: Float64Array): Uint32Array {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Little-endian: word 2i is the low half. Negative numbers flip every bit, others only the sign bit.
    const h = words[2 * i + 1]!;
    // -0 orders as 0 (it equals 0); every other number with the sign bit set is below 0.
    const negative = h >>> 31 === 1 && values[i] !== 0;
    lo[i] = negative ? ~words[2 * i]! >>> 0 : values[i] === 0 ? 0 : words[2 * i]!;
    hi[i] = negative ? ~h >>> 0 : values[i] === 0 ? 0x80000000 : (h | 0x80000000) >>> 0;
    order[i] = i;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  let order2 = new Uint32Array(n);
  const counts = new Uint32Array(0x10000);
  for (let pass = 0; pass < 4; pass++) {
    const source = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(source[i]! >>> shift) & 0xffff]!++;
    // A pass whose digit is the same everywhere moves nothing.
    if (n > 0 && counts[(source[0]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(source[i]! >>> shift) & 0xffff]!++;
      lo2[at] = lo[i]!;
      hi2[at] = hi[i]!;
      order2[at] = order[i]!;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
    [order, order2] = [order2, order];
  }
  // The bits are the probabilities themselves: leave no copy behind.
  for (const a of [lo, hi, lo2, hi2, order2]) a.fill(0);
  return order;
}

export class DecryptedRun {
  readonly runId: number;
  readonly patients: number;
  readonly atRisk: number;
  private columns: RunColumns | null;
  /** Ascending orders of the patients by each sort key, computed on first use (a descending order reads it backwards). */
  private readonly orders = new Map<ResultQuery['sort']['key'], Uint32Array>();
  /** Patient IDs in lower case, made on the first text filter: filtering then costs one scan. */
  private lowerIds: string[] | null = null;
  /** The last filtered order: paging through one query must not filter a million rows per page. */
  private lastQuery: { key: string; rows: Uint32Array } | null = null;

  constructor(columns: RunColumns) {
    this.columns = columns;
    this.runId = columns.runId;
    this.patients = columns.probabilities.length;
    let atRisk = 0;
    for (const p of columns.probabilities) if (p >= AT_RISK_FROM) atRisk++;
    this.atRisk = atRisk;
  }

  get held(): boolean {
    return this.columns !== null;
  }

  private cols(): RunColumns {
    if (this.columns === null) throw new Error(`the decrypted results of run ${this.runId} were cleared (locked): decrypt the run again`);
    return this.columns;
  }

  private row(i: number): PatientPrediction {
    const c = this.cols();
    const probability = c.probabilities[i]!;
    return { batchId: c.batchIds[i]!, hospital: c.hospitals[c.hospitalIndex[i]!]!, patientId: c.patientIds[i]!, probability, atRisk: probability >= AT_RISK_FROM };
  }

  /** Every row in stored order (CSV export, the CLI): small runs, or a caller that streams them on. */
  *rows(): Generator<PatientPrediction> {
    for (let i = 0; i < this.patients; i++) yield this.row(i);
  }

  private identity(): Uint32Array {
    const order = new Uint32Array(this.patients);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order;
  }

  private ascending(key: ResultQuery['sort']['key']): Uint32Array {
    const cached = this.orders.get(key);
    if (cached) return cached;
    const c = this.cols();
    let order: Uint32Array;
    if (key === 'probability' || key === 'atRisk') {
      // At risk is a threshold on the probability: ordering by probability orders by at-risk too.
      order = this.orders.get('probability') ?? stableOrder(c.probabilities);
    } else if (key === 'patientId') {
      const keys = c.patientIds.map(naturalKey);
      const compare = (a: number, b: number): number =>
        keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : natural.compare(c.patientIds[a]!, c.patientIds[b]!) || a - b;
      // An export is usually in ID order already: one pass finds out, and spares the sort.
      let sorted = true;
      for (let i = 1; sorted && i < keys.length; i++) sorted = compare(i - 1, i) < 0;
      order = sorted ? this.identity() : this.identity().sort(compare);
    } else {
      // By hospital, then patient ID: a counting sort of the ID order by the hospital's rank keeps it stable.
      const byId = this.ascending('patientId');
      const rank = new Uint32Array(c.hospitals.length);
      c.hospitals
        .map((name, h) => ({ name, h }))
        .sort((a, b) => natural.compare(a.name, b.name) || a.h - b.h)
        .forEach(({ h }, r) => (rank[h] = r));
      const starts = new Uint32Array(c.hospitals.length + 1);
      for (const i of byId) starts[rank[c.hospitalIndex[i]!]! + 1]!++;
      for (let r = 1; r < starts.length; r++) starts[r]! += starts[r - 1]!;
      order = new Uint32Array(this.patients);
      for (const i of byId) order[starts[rank[c.hospitalIndex[i]!]!]!++] = i;
    }
    this.orders.set(key, order);
    return order;
  }

  /** One page of the run, sorted and filtered here; `matching` counts every row the filter keeps. */
  page(query: ResultQuery): ResultPage {
    const c = this.cols();
    const queryKey = JSON.stringify([query.sort, query.filter]);
    let rows = this.lastQuery?.key === queryKey ? this.lastQuery.rows : null;
    if (rows === null) {
      const order = this.ascending(query.sort.key);
      const needle = query.filter.text.trim().toLowerCase();
      const { atRiskOnly } = query.filter;
      let kept = order;
      if (needle !== '' || atRiskOnly) {
        // Which rows match, decided in stored order (the strings are read in the order they sit in memory),
        // then collected in the sorted order from a byte per row.
        const match = new Uint8Array(this.patients);
        const hospitalMatches = c.hospitals.map((h) => h.toLowerCase().includes(needle));
        const ids = needle === '' ? null : (this.lowerIds ??= c.patientIds.map((id) => id.toLowerCase()));
        for (let i = 0; i < match.length; i++) {
          match[i] = Number(
            (!atRiskOnly || c.probabilities[i]! >= AT_RISK_FROM) && (ids === null || hospitalMatches[c.hospitalIndex[i]!]! || ids[i]!.includes(needle)),
          );
        }
        kept = new Uint32Array(order.length);
        let n = 0;
        for (let at = 0; at < order.length; at++) if (match[order[at]!] === 1) kept[n++] = order[at]!;
        kept = kept.subarray(0, n);
      }
      rows = query.sort.direction === 'asc' ? kept : kept.slice().reverse();
      this.lastQuery = { key: queryKey, rows };
    }
    const end = Math.min(rows.length, query.offset + query.limit);
    const page: PatientPrediction[] = [];
    for (let at = query.offset; at < end; at++) page.push(this.row(rows[at]!));
    return { runId: this.runId, matching: rows.length, offset: query.offset, rows: page };
  }

  /** Zeroes the probabilities and every order derived from them, and drops the rest: nothing of the run stays. */
  destroy(): void {
    if (this.columns === null) return;
    this.columns.probabilities.fill(0);
    for (const order of this.orders.values()) order.fill(0);
    this.lastQuery?.rows.fill(0);
    this.orders.clear();
    this.lastQuery = null;
    this.lowerIds = null;
    this.columns = null;
  }
}
