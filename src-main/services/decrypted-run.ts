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

/**
 * A string key whose plain ordering is the natural ordering of patient IDs ("P2" before "P10"): every run of
 * digits becomes its length (two characters) and its digits without leading zeros. Comparing these with < is
 * a few times faster than a collator on a million IDs.
 */
function naturalKey(id: string): string {
  return id.toLowerCase().replace(/\d+/g, (digits) => {
    const stripped = digits.replace(/^0+(?=\d)/, '');
    return String.fromCharCode(0x30 + Math.min(stripped.length, 0xffff - 0x30)) + stripped;
  });
}

export class DecryptedRun {
  readonly runId: number;
  readonly patients: number;
  readonly atRisk: number;
  private columns: RunColumns | null;
  /** Ascending orders of the patients by each sort key, computed on first use (a descending order reads it backwards). */
  private readonly orders = new Map<ResultQuery['sort']['key'], Uint32Array>();
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
      const p = c.probabilities;
      order = this.orders.get('probability') ?? this.identity().sort((a, b) => p[a]! - p[b]! || a - b);
    } else if (key === 'patientId') {
      const keys = c.patientIds.map(naturalKey);
      order = this.identity().sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : natural.compare(c.patientIds[a]!, c.patientIds[b]!) || a - b));
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
      const hospitalMatches = c.hospitals.map((h) => needle === '' || h.toLowerCase().includes(needle));
      const keep = (i: number): boolean =>
        (!query.filter.atRiskOnly || c.probabilities[i]! >= AT_RISK_FROM) &&
        (hospitalMatches[c.hospitalIndex[i]!]! || c.patientIds[i]!.toLowerCase().includes(needle));
      const everything = needle === '' && !query.filter.atRiskOnly;
      const kept = everything ? order : order.filter(keep);
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
    this.columns = null;
  }
}
