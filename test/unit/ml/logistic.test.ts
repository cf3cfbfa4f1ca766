import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  choleskySolve,
  linear,
  predictProba,
  sigmoid,
  trainGradientDescent,
  trainLogistic,
  type LogisticWeights,
} from '../../../src-main/ml/logistic.ts';
import { gaussian, mulberry32 } from '../../../src-main/ml/random.ts';
import { fitScaler, transform } from '../../../src-main/ml/scaler.ts';
import { chooseInterval, evalPoly, fitSigmoidPoly } from '../../../src-main/ml/sigmoid-poly.ts';

/** Independent reference for the loss, written directly from the definition with the naive sigmoid. */
function referenceLoss(x: Float64Array[], y: Float64Array, w: LogisticWeights, l2: number): number {
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    let z = w.bias;
    x.forEach((column, j) => (z += w.weights[j]! * column[i]!));
    const p = 1 / (1 + Math.exp(-z));
    loss -= y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p);
  }
  return loss / y.length + (l2 / 2) * w.weights.reduce((a, v) => a + v * v, 0);
}

function gradientNorm(x: Float64Array[], y: Float64Array, w: LogisticWeights, l2: number): number {
  const p = predictProba(x, w);
  let norm = 0;
  for (let j = 0; j <= x.length; j++) {
    let g = 0;
    for (let i = 0; i < y.length; i++) g += (p[i]! - y[i]!) * (j < x.length ? x[j]![i]! : 1);
    g /= y.length;
    if (j < x.length) g += l2 * w.weights[j]!;
    norm = Math.max(norm, Math.abs(g));
  }
  return norm;
}

function syntheticData(n: number, truth: LogisticWeights, seed: number): { x: Float64Array[]; y: Float64Array } {
  const rand = mulberry32(seed);
  const x = truth.weights.map(() => new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = truth.bias;
    x.forEach((column, j) => {
      column[i] = gaussian(rand);
      z += truth.weights[j]! * column[i]!;
    });
    y[i] = rand() < sigmoid(z) ? 1 : 0;
  }
  return { x, y };
}

function loadPilot(): { x: Float64Array[]; y: Float64Array } {
  const lines = readFileSync(new URL('../../../resources/sample/pilot-vitals.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  const raw = [2, 3, 4, 5, 6].map((c) => Float64Array.from(lines, (r) => Number(r[c])));
  return { x: transform(fitScaler(raw), raw), y: Float64Array.from(lines, (r) => Number(r[7])) };
}

describe('sigmoid', () => {
  it('matches the definition and stays finite at the extremes', () => {
    for (const z of [-30, -2, 0, 0.5, 7, 30]) expect(sigmoid(z)).toBeCloseTo(1 / (1 + Math.exp(-z)), 15);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
  });
});

describe('linear / predictProba', () => {
  it('computes w·x + b per row', () => {
    const x = [Float64Array.of(1, 2), Float64Array.of(3, -1)];
    const w = { weights: [2, 0.5], bias: -1 };
    // Row 0: 2*1 + 0.5*3 - 1 = 2.5; row 1: 2*2 + 0.5*(-1) - 1 = 2.5.
    expect(Array.from(linear(x, w))).toEqual([2.5, 2.5]);
    expect(Array.from(predictProba(x, w, (z) => z / 10))).toEqual([0.25, 0.25]);
    expect(() => linear(x, { weights: [1], bias: 0 })).toThrow(RangeError);
  });
});

describe('choleskySolve', () => {
  it('solves an SPD system and refuses an indefinite one', () => {
    // A = [[4, 2], [2, 3]], b = [2, 1]: det 8, x = [(3*2 - 2*1)/8, (4*1 - 2*2)/8] = [0.5, 0].
    const x = choleskySolve(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1));
    expect(x[0]).toBeCloseTo(0.5, 14);
    expect(x[1]).toBeCloseTo(0, 14);
    expect(() => choleskySolve(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1))).toThrow(/positive definite/);
  });
});

describe('trainLogistic (Newton / IRLS)', () => {
  it('recovers the weights of a known generating model', () => {
    const truth = { weights: [1.5, -2, 0.5], bias: -0.7 };
    const { x, y } = syntheticData(5000, truth, 2024);
    const fit = trainLogistic(x, y, { l2: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(15);
    fit.weights.forEach((w, j) => expect(Math.abs(w - truth.weights[j]!)).toBeLessThan(0.1));
    expect(Math.abs(fit.bias - truth.bias)).toBeLessThan(0.1);
    expect(gradientNorm(x, y, fit, 0)).toBeLessThan(1e-10);
  });

  it('finds the stationary point of the ridge objective, shrinking weights but not the bias penalty', () => {
    const { x, y } = syntheticData(2000, { weights: [2, -1], bias: 1.5 }, 5);
    const plain = trainLogistic(x, y, { l2: 0 });
    const ridge = trainLogistic(x, y, { l2: 0.1 });
    expect(ridge.converged).toBe(true);
    expect(gradientNorm(x, y, ridge, 0.1)).toBeLessThan(1e-10);
    expect(Math.hypot(...ridge.weights)).toBeLessThan(Math.hypot(...plain.weights));
    // Its objective is no worse than the unregularised solution's, evaluated under the same penalty.
    expect(referenceLoss(x, y, ridge, 0.1)).toBeLessThanOrEqual(referenceLoss(x, y, plain, 0.1));
  });

  it('converges on the perfectly separable pilot with the default ridge, and not without it', () => {
    const { x, y } = loadPilot();
    const fit = trainLogistic(x, y);
    expect(fit.converged).toBe(true);
    const p = predictProba(x, fit);
    y.forEach((label, i) => expect(p[i]! >= 0.5 ? 1 : 0).toBe(label));
    const unregularised = trainLogistic(x, y, { l2: 0, maxIter: 50 });
    expect(unregularised.converged).toBe(false);
    expect(Math.hypot(...unregularised.weights)).toBeGreaterThan(10 * Math.hypot(...fit.weights));
  });

  it('validates its input', () => {
    expect(() => trainLogistic([Float64Array.of(1, 2)], Float64Array.of(0))).toThrow(RangeError);
    expect(() => trainLogistic([Float64Array.of(1, 2)], Float64Array.of(0, 0.5))).toThrow(/0 or 1/);
    expect(() => trainLogistic([], new Float64Array(0))).toThrow(RangeError);
  });
});

describe('trainGradientDescent', () => {
  const { x, y } = syntheticData(1000, { weights: [1.2, -0.8, 0.3], bias: -0.5 }, 11);

  it('decreases the loss, with Nesterov faster than plain gradient descent', () => {
    const plain = trainGradientDescent(x, y, { epochs: 30, lr: 0.5, l2: 1e-2 });
    const nesterov = trainGradientDescent(x, y, { epochs: 30, lr: 0.5, l2: 1e-2, nesterov: true });
    expect(nesterov.history).toHaveLength(31);
    expect(nesterov.history[0]!.epoch).toBe(0);
    expect(nesterov.history[0]!.loss).toBeCloseTo(Math.LN2, 12);
    for (let e = 1; e < plain.history.length; e++) {
      expect(plain.history[e]!.loss).toBeLessThan(plain.history[e - 1]!.loss);
    }
    expect(nesterov.history.at(-1)!.loss).toBeLessThan(nesterov.history[0]!.loss);
    expect(nesterov.history.at(-1)!.loss).toBeLessThan(plain.history.at(-1)!.loss);
    expect(nesterov.history.at(-1)!.loss).toBeCloseTo(referenceLoss(x, y, nesterov, 1e-2), 12);
  });

  it('reaches the Newton solution of the same objective', () => {
    const newton = trainLogistic(x, y, { l2: 1e-2 });
    const gd = trainGradientDescent(x, y, { epochs: 300, lr: 1, l2: 1e-2, nesterov: true });
    gd.weights.forEach((w, j) => expect(w).toBeCloseTo(newton.weights[j]!, 5));
    expect(gd.bias).toBeCloseTo(newton.bias, 5);
  });

  it('accepts a polynomial sigmoid and, on an interval covering the data, lands close to the exact model', () => {
    const exact = trainGradientDescent(x, y, { epochs: 50, lr: 1, nesterov: true });
    const poly = fitSigmoidPoly(3, chooseInterval(linear(x, exact)));
    const approx = trainGradientDescent(x, y, { epochs: 50, lr: 1, nesterov: true, sigmoid: (z) => evalPoly(poly, z) });
    expect(approx.weights).not.toEqual(exact.weights);
    approx.weights.forEach((w, j) => expect(Math.abs(w - exact.weights[j]!)).toBeLessThan(0.1));
    expect(approx.history.at(-1)!.loss - exact.history.at(-1)!.loss).toBeLessThan(0.005);
  });
});
