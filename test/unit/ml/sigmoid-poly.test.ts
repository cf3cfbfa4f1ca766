import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseInterval, evalPoly, fitSigmoidPoly } from '../../../src-main/ml/sigmoid-poly.ts';

/** Independent evaluation: explicit powers and the textbook sigmoid, on a grid unrelated to the module's. */
function independentMaxError(coefficients: number[], interval: number): number {
  const points = 7919;
  let worst = 0;
  for (let i = 0; i < points; i++) {
    const z = -interval + (2 * interval * i) / (points - 1);
    const poly = coefficients.reduce((acc, c, p) => acc + c * Math.pow(z, p), 0);
    worst = Math.max(worst, Math.abs(poly - 1 / (1 + Math.exp(-z))));
  }
  return worst;
}

function sumOfSquares(coefficients: number[], interval: number): number {
  let total = 0;
  for (let i = 0; i < 2001; i++) {
    const z = -interval + (2 * interval * i) / 2000;
    const poly = coefficients.reduce((acc, c, p) => acc + c * Math.pow(z, p), 0);
    total += (poly - 1 / (1 + Math.exp(-z))) ** 2;
  }
  return total;
}

describe('fitSigmoidPoly', () => {
  it('reproduces the known degree-3 fit on [-5, 5]: about 0.5 + 0.197 z - 0.004 z^3', () => {
    const p = fitSigmoidPoly(3, 5);
    expect(p.degree).toBe(3);
    expect(p.interval).toBe(5);
    expect(p.coefficients).toHaveLength(4);
    expect(p.coefficients[0]).toBe(0.5);
    expect(p.coefficients[2]).toBe(0);
    expect(p.coefficients[1]).toBeCloseTo(0.197, 2);
    expect(p.coefficients[3]).toBeLessThan(-0.003);
    expect(p.coefficients[3]).toBeGreaterThan(-0.006);
  });

  it('reports a max error that matches an independent dense-grid evaluation', () => {
    for (const degree of [1, 3, 5, 7] as const) {
      const p = fitSigmoidPoly(degree, 8);
      const independent = independentMaxError(p.coefficients, 8);
      expect(independent).toBeLessThanOrEqual(p.maxError + 1e-12);
      expect(independent).toBeGreaterThan(0.99 * p.maxError);
    }
  });

  it('meets the expected error bounds, improving with the degree', () => {
    const errors = ([1, 3, 5, 7] as const).map((d) => fitSigmoidPoly(d, 8).maxError);
    expect(errors[1]).toBeLessThan(0.12);
    for (let k = 1; k < errors.length; k++) expect(errors[k]).toBeLessThan(errors[k - 1]!);
    expect(errors[3]).toBeLessThan(errors[1]! / 2);
    expect(fitSigmoidPoly(7, 5).maxError).toBeLessThan(0.01);
  });

  it('is a least-squares minimum: perturbing any odd coefficient increases the squared error', () => {
    const p = fitSigmoidPoly(5, 8);
    const best = sumOfSquares(p.coefficients, 8);
    for (const power of [1, 3, 5]) {
      for (const sign of [-1, 1]) {
        const perturbed = [...p.coefficients];
        perturbed[power]! += sign * 1e-3 * Math.abs(perturbed[power]!);
        expect(sumOfSquares(perturbed, 8)).toBeGreaterThan(best);
      }
    }
  });

  it('is odd-symmetric around 1/2: poly(-z) = 1 - poly(z)', () => {
    const polys = ([1, 3, 5, 7] as const).map((d) => fitSigmoidPoly(d, 8));
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (z) => {
        for (const p of polys) expect(evalPoly(p, -z) + evalPoly(p, z)).toBeCloseTo(1, 12);
      }),
    );
    for (const p of polys) expect(evalPoly(p, 0)).toBe(0.5);
  });

  it('rejects a non-positive interval', () => {
    expect(() => fitSigmoidPoly(3, 0)).toThrow(RangeError);
    expect(() => fitSigmoidPoly(3, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('evalPoly', () => {
  it('evaluates the monomial basis', () => {
    // 0.5 + 0.25 z - 0.01 z^3 at z = 2: 0.5 + 0.5 - 0.08 = 0.92.
    const p = { degree: 3, interval: 4, coefficients: [0.5, 0.25, 0, -0.01], maxError: 0 };
    expect(evalPoly(p, 2)).toBeCloseTo(0.92, 15);
  });
});

describe('chooseInterval', () => {
  it('covers max |z| with a 10% margin, rounded up, at least 4', () => {
    expect(chooseInterval(Float64Array.of(1, -2.5))).toBe(4);
    expect(chooseInterval(new Float64Array(0))).toBe(4);
    // 7.3 * 1.1 = 8.03 -> 9; |-10| * 1.1 = 11.
    expect(chooseInterval(Float64Array.of(0.2, 7.3, -1))).toBe(9);
    expect(chooseInterval(Float64Array.of(3, -10))).toBe(11);
    expect(() => chooseInterval(Float64Array.of(Number.NaN))).toThrow(RangeError);
  });
});
