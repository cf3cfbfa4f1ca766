import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classificationMetrics, confusion, logLoss, rocAuc, rocCurve } from '../../../src-main/ml/metrics.ts';

function trapezoid(curve: { fpr: number; tpr: number }[]): number {
  let area = 0;
  for (let k = 1; k < curve.length; k++) {
    area += ((curve[k]!.fpr - curve[k - 1]!.fpr) * (curve[k]!.tpr + curve[k - 1]!.tpr)) / 2;
  }
  return area;
}

/** Brute force over all positive/negative pairs, ties worth one half: the definition AUC must match. */
function pairwiseAuc(y: number[], p: number[]): number {
  let wins = 0;
  let pairs = 0;
  y.forEach((yi, i) =>
    y.forEach((yj, j) => {
      if (yi === 1 && yj === 0) {
        pairs++;
        wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
      }
    }),
  );
  return wins / pairs;
}

describe('confusion / classificationMetrics', () => {
  // prob >= 0.5 predicts [1, 1, 1, 1, 1, 0, 0, 0] against truth [1, 0, 1, 1, 0, 0, 1, 0]:
  // tp = rows 0, 2, 3 -> 3; fp = rows 1, 4 -> 2; fn = row 6 -> 1; tn = rows 5, 7 -> 2.
  // accuracy 5/8; precision 3/5; recall 3/4; F1 = 2*0.6*0.75/1.35 = 2/3.
  // AUC: positives {0.9, 0.7, 0.6, 0.3} vs negatives {0.8, 0.55, 0.4, 0.2}:
  // 0.9 beats 4, 0.7 beats 3, 0.6 beats 3, 0.3 beats 1 -> 11 of 16 pairs = 0.6875.
  const y = [1, 0, 1, 1, 0, 0, 1, 0];
  const p = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2];

  it('matches the hand-computed case', () => {
    const m = classificationMetrics(y, p);
    expect(m.confusion).toEqual({ tp: 3, fp: 2, tn: 2, fn: 1 });
    expect(m.accuracy).toBe(5 / 8);
    expect(m.precision).toBe(3 / 5);
    expect(m.recall).toBe(3 / 4);
    expect(m.f1).toBeCloseTo(2 / 3, 15);
    expect(m.auc).toBe(11 / 16);
  });

  it('honours the threshold, counting a score equal to it as positive', () => {
    // Threshold 0.7 predicts rows 0, 1, 2: tp = 0, 2 -> 2; fp = 1; fn = 3, 6 -> 2; tn = 3.
    expect(classificationMetrics(y, p, 0.7).confusion).toEqual({ tp: 2, fp: 1, tn: 3, fn: 2 });
  });

  it('defines the zero-division cases as 0 and AUC without both classes as NaN', () => {
    const nonePredicted = classificationMetrics([1, 0, 1], [0.1, 0.2, 0.3]);
    expect(nonePredicted.precision).toBe(0);
    expect(nonePredicted.recall).toBe(0);
    expect(nonePredicted.f1).toBe(0);
    const noPositives = classificationMetrics([0, 0], [0.9, 0.1]);
    expect(noPositives.recall).toBe(0);
    expect(noPositives.precision).toBe(0);
    expect(noPositives.accuracy).toBe(0.5);
    expect(noPositives.auc).toBeNaN();
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });

  it('rejects non-binary labels and length mismatches', () => {
    expect(() => confusion([1, 2], [1, 0])).toThrow(/0 or 1/);
    expect(() => confusion([1, 0], [1])).toThrow(RangeError);
    expect(() => rocAuc([1, 0], [0.5, Number.NaN])).toThrow(/NaN/);
  });
});

describe('rocCurve / rocAuc', () => {
  // Truth [1, 0, 1, 0, 1, 0], scores [0.8, 0.8, 0.5, 0.5, 0.5, 0.1]; 3 positives, 3 negatives.
  // Thresholds: 0.8 admits one of each -> (1/3, 1/3); 0.5 adds 2 positives and 1 negative -> (2/3, 1); 0.1 -> (1, 1).
  // Trapezoids: 1/3 * (0 + 1/3)/2 + 1/3 * (1/3 + 1)/2 + 1/3 * (1 + 1)/2 = 1/18 + 4/18 + 6/18 = 11/18.
  // Pairwise: positive 0.8 vs {0.8 tie, 0.5, 0.1} = 2.5; each positive 0.5 vs {0.8, 0.5 tie, 0.1} = 1.5 -> 5.5/9 = 11/18.
  const y = [1, 0, 1, 0, 1, 0];
  const p = [0.8, 0.8, 0.5, 0.5, 0.5, 0.1];

  it('groups ties into single points and runs from (0, 0) to (1, 1)', () => {
    const curve = rocCurve(y, p);
    expect(curve).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 1 / 3, tpr: 1 / 3, threshold: 0.8 },
      { fpr: 2 / 3, tpr: 1, threshold: 0.5 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
  });

  it('computes AUC with ties counting one half', () => {
    expect(rocAuc(y, p)).toBeCloseTo(11 / 18, 15);
    expect(trapezoid(rocCurve(y, p))).toBeCloseTo(11 / 18, 15);
  });

  it('gives 1 for a perfect ranking, 0 for a reversed one and 0.5 when all scores tie', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(rocAuc([0, 1, 0, 1], [0.4, 0.4, 0.4, 0.4])).toBe(0.5);
    expect(rocCurve([0, 1, 0, 1], [0.4, 0.4, 0.4, 0.4])).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 1, tpr: 1, threshold: 0.4 },
    ]);
  });

  it('equals the pairwise definition and the trapezoidal ROC area on random inputs', () => {
    const sample = fc
      .array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 6 })), { minLength: 2, maxLength: 40 })
      .filter((rows) => rows.some(([l]) => l === 1) && rows.some(([l]) => l === 0));
    fc.assert(
      fc.property(sample, (rows) => {
        // Scores drawn from 7 values so ties are frequent.
        const labels = rows.map(([l]) => l);
        const scores = rows.map(([, s]) => s / 6);
        const auc = rocAuc(labels, scores);
        expect(auc).toBeCloseTo(pairwiseAuc(labels, scores), 12);
        const curve = rocCurve(labels, scores);
        expect(curve[0]).toEqual({ fpr: 0, tpr: 0, threshold: Infinity });
        expect(curve.at(-1)!.fpr).toBe(1);
        expect(curve.at(-1)!.tpr).toBe(1);
        expect(trapezoid(curve)).toBeCloseTo(auc, 12);
      }),
    );
  });
});

describe('log-loss', () => {
  it('is the mean cross-entropy, ln 2 for a coin flip, and finite for a confident miss', () => {
    expect(logLoss([1, 0], [0.5, 0.5])).toBeCloseTo(Math.LN2, 12);
    expect(logLoss([1, 0, 1], [0.9, 0.2, 0.6])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.6)) / 3, 12);
    // A clamped polynomial sigmoid can say exactly 0 or 1: the loss is large, not Infinity.
    const miss = logLoss([1], [0]);
    expect(Number.isFinite(miss)).toBe(true);
    expect(miss).toBeGreaterThan(15);
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-6);
  });
});
