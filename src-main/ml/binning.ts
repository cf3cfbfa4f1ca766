/*
 * Curves and histograms that hold no single patient. Scores live on a fixed grid of GRID cells over [0, 1]; the
 * edges released are grid points, never a patient's score. Each batch gets its own bins: grid cells merged from
 * the top until each bin holds at least k of that batch's patients (and, for labeled bins, both classes). A pooled release uses only the edges every
 * batch of it has, so each of its bins holds at least k patients of every batch, and any count an attacker can
 * derive by subtracting releases (whose edges are always edges of each batch involved) is a union of one
 * batch's bins: k patients or none.
 */

export const GRID = 100;

/** A bin's edges as grid indices (0..GRID); a bin is [lo, hi), the top one [lo, 1]. */
export interface GridBin {
  lo: number;
  hi: number;
}

export function cellOf(score: number): number {
  return Math.min(GRID - 1, Math.max(0, Math.floor(score * GRID)));
}

/**
 * Edges (ascending grid indices, 0 and GRID included) of one batch's bins: from the top cell down, a bin closes
 * once it holds at least k scores and, given labels, patients of both classes, so no bin's counts state the label
 * of the patients in it; what is left at the bottom (short of that) joins the bin above it.
 */
export function batchEdges(scores: ArrayLike<number>, k: number, labels?: ArrayLike<number>): number[] {
  const cells = Array.from({ length: GRID }, () => ({ n: 0, positives: 0 }));
  for (let i = 0; i < scores.length; i++) {
    const cell = cells[cellOf(scores[i]!)]!;
    cell.n++;
    if (labels && labels[i] === 1) cell.positives++;
  }
  const enough = (held: { n: number; positives: number }): boolean =>
    held.n >= k && (!labels || (held.positives > 0 && held.positives < held.n));
  const edges = [GRID];
  let held = { n: 0, positives: 0 };
  for (let c = GRID - 1; c >= 0; c--) {
    held = { n: held.n + cells[c]!.n, positives: held.positives + cells[c]!.positives };
    if (enough(held) && c > 0) {
      edges.push(c);
      held = { n: 0, positives: 0 };
    }
  }
  // The bottom remainder, short of that (or empty), is merged upwards by dropping the edge above it.
  if (!enough(held) && edges.length > 1) edges.pop();
  edges.push(0);
  return [...new Set(edges)].sort((a, b) => a - b);
}

/** The edges every batch has: each pooled bin is a union of bins of each batch. */
export function commonEdges(perBatch: readonly (readonly number[])[]): number[] {
  if (perBatch.length === 0) return [0, GRID];
  return perBatch[0]!.filter((e) => perBatch.every((edges) => edges.includes(e)));
}

/** Equal-width bins on the grid: the data-independent binning differential privacy needs. */
export function fixedEdges(bins: number): number[] {
  return Array.from({ length: bins + 1 }, (_, i) => Math.round((i * GRID) / bins));
}

export function binsOf(edges: readonly number[]): GridBin[] {
  return edges.slice(0, -1).map((lo, i) => ({ lo, hi: edges[i + 1]! }));
}

/** Index of the bin (of `edges`) holding `score`. */
export function binIndex(edges: readonly number[], score: number): number {
  const cell = cellOf(score);
  let i = 0;
  while (i + 2 < edges.length && edges[i + 1]! <= cell) i++;
  return i;
}

/** Per bin: patients, positives, sum of scores (for calibration). */
export interface BinTally {
  patients: number;
  positives: number;
  scoreSum: number;
}

export function tally(edges: readonly number[], scores: ArrayLike<number>, labels?: ArrayLike<number>): BinTally[] {
  const out = binsOf(edges).map(() => ({ patients: 0, positives: 0, scoreSum: 0 }));
  for (let i = 0; i < scores.length; i++) {
    const t = out[binIndex(edges, scores[i]!)]!;
    t.patients++;
    t.scoreSum += scores[i]!;
    if (labels && labels[i] === 1) t.positives++;
  }
  return out;
}

/**
 * The ROC curve through the bins' edges, from the top: (0, 0) above every score, then one point per bin edge,
 * thresholds being grid values. NaN rates when a class is absent, as in rocCurve.
 */
export function binnedRoc(edges: readonly number[], bins: readonly { positives: number; negatives: number }[]): { fpr: number; tpr: number; threshold: number | null }[] {
  const P = bins.reduce((s, b) => s + b.positives, 0);
  const N = bins.reduce((s, b) => s + b.negatives, 0);
  const curve: { fpr: number; tpr: number; threshold: number | null }[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let tp = 0;
  let fp = 0;
  for (let i = bins.length - 1; i >= 0; i--) {
    tp += bins[i]!.positives;
    fp += bins[i]!.negatives;
    curve.push({ fpr: fp / N, tpr: tp / P, threshold: edges[i]! / GRID });
  }
  return curve;
}

/** Area under a (binned) ROC curve by trapezoids: patients sharing a bin count as ties, one half each. */
export function trapezoidAuc(curve: readonly { fpr: number; tpr: number }[]): number {
  let area = 0;
  for (let i = 1; i < curve.length; i++) area += ((curve[i]!.fpr - curve[i - 1]!.fpr) * (curve[i]!.tpr + curve[i - 1]!.tpr)) / 2;
  return area;
}
