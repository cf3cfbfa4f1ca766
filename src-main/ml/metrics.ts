/**
 * Binary classification metrics. Labels must be exactly 0 or 1; a score counts as a positive
 * prediction when score >= threshold, the same convention the ROC thresholds use.
 *
 * Degenerate cases (common with small hospital pilots) are defined rather than thrown:
 * precision is 0 when nothing is predicted positive, recall is 0 when there are no positives,
 * F1 is 0 when precision + recall is 0, and AUC is NaN when either class is absent, because ranking
 * positives above negatives is meaningless without both; NaN cannot be mistaken for a real score.
 */

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Metrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  auc: number;
  /** Mean squared difference between the probability and the 0/1 label: calibration and sharpness in one. */
  brier: number;
  confusion: Confusion;
}

function isPositive(label: number): boolean {
  if (label !== 0 && label !== 1) throw new RangeError(`metrics: labels must be 0 or 1, got ${label}`);
  return label === 1;
}

function checkLengths(yTrue: ArrayLike<number>, other: ArrayLike<number>): void {
  if (yTrue.length !== other.length) {
    throw new RangeError(`metrics: ${yTrue.length} labels but ${other.length} predictions`);
  }
}

export function confusion(yTrue: ArrayLike<number>, yPred01: ArrayLike<number>): Confusion {
  checkLengths(yTrue, yPred01);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < yTrue.length; i++) {
    const actual = isPositive(yTrue[i]!);
    const predicted = isPositive(yPred01[i]!);
    if (actual && predicted) c.tp++;
    else if (predicted) c.fp++;
    else if (actual) c.fn++;
    else c.tn++;
  }
  return c;
}

export function classificationMetrics(yTrue: ArrayLike<number>, prob: ArrayLike<number>, threshold = 0.5): Metrics {
  checkLengths(yTrue, prob);
  const predicted = Array.from(prob, (p) => (p >= threshold ? 1 : 0));
  return metricsFrom(confusion(yTrue, predicted), rocAuc(yTrue, prob), brierScore(yTrue, prob));
}

/** The rates of a confusion matrix, with an AUC and a Brier score computed elsewhere (exactly, or from noisy bins). */
export function metricsFrom(c: Confusion, auc: number, brier: number): Metrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  return {
    accuracy: n === 0 ? 0 : (c.tp + c.tn) / n,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    auc,
    brier,
    confusion: c,
  };
}

export function brierScore(yTrue: ArrayLike<number>, prob: ArrayLike<number>): number {
  checkLengths(yTrue, prob);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += (prob[i]! - (isPositive(yTrue[i]!) ? 1 : 0)) ** 2;
  return yTrue.length === 0 ? NaN : sum / yTrue.length;
}

/** Indices ordered by descending score; NaN scores are rejected because they have no place in a ranking. */
function descendingOrder(yTrue: ArrayLike<number>, prob: ArrayLike<number>): number[] {
  checkLengths(yTrue, prob);
  for (let i = 0; i < prob.length; i++) {
    if (Number.isNaN(prob[i])) throw new RangeError(`metrics: score ${i} is NaN`);
  }
  return Array.from({ length: prob.length }, (_, i) => i).sort((a, b) => prob[b]! - prob[a]!);
}

/**
 * ROC curve from (0, 0) at threshold +Infinity to (1, 1) at the lowest score. Tied scores form one
 * point: a threshold cannot separate them, so stepping through them one by one would invent
 * operating points that do not exist and change the area. When a class is absent, the rate normalised
 * by its count (fpr or tpr) is NaN, for the same reason AUC is.
 */
export function rocCurve(
  yTrue: ArrayLike<number>,
  prob: ArrayLike<number>,
): { fpr: number; tpr: number; threshold: number }[] {
  const order = descendingOrder(yTrue, prob);
  let positives = 0;
  for (let i = 0; i < yTrue.length; i++) if (isPositive(yTrue[i]!)) positives++;
  const negatives = yTrue.length - positives;
  const curve = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (yTrue[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || prob[next] !== prob[i]) {
      curve.push({ fpr: fp / negatives, tpr: tp / positives, threshold: prob[i]! });
    }
  }
  return curve;
}

/**
 * AUC as the Mann–Whitney statistic: the probability that a random positive outranks a random
 * negative, ties counting one half (via average ranks). This equals the trapezoidal area under
 * rocCurve, but is O(n log n) and independent of how the curve is discretised.
 */
export function rocAuc(yTrue: ArrayLike<number>, prob: ArrayLike<number>): number {
  const order = descendingOrder(yTrue, prob).reverse();
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && prob[order[end + 1]!] === prob[order[start]!]) end++;
    // 1-based ranks start+1..end+1 are shared by the tie group; each member gets their mean.
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (isPositive(yTrue[order[k]!]!)) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

// Probabilities of exactly 0 or 1 (a clamped polynomial sigmoid reaches them) would make the loss infinite.
const LOG_LOSS_EPS = 1e-7;

/** Mean binary cross-entropy (the loss logistic regression minimises) of probabilities against 0/1 labels. */
export function logLoss(yTrue: ArrayLike<number>, prob: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, prob[i]!));
    sum -= isPositive(yTrue[i]!) ? Math.log(p) : Math.log(1 - p);
  }
  return sum / yTrue.length;
}
