import { describe, expect, it } from 'vitest';
import { laplace } from '../../src-main/services/noise.ts';

describe('Laplace noise for differential privacy', () => {
  it('has mean 0 and variance 2 b^2 (b = sensitivity / epsilon), drawn from the OS random source', () => {
    const b = 3;
    const n = 200_000;
    let sum = 0;
    let squares = 0;
    let positive = 0;
    for (let i = 0; i < n; i++) {
      const x = laplace(b);
      sum += x;
      squares += x * x;
      if (x > 0) positive++;
    }
    const mean = sum / n;
    // Standard error of the mean: sqrt(2) b / sqrt(n) ~ 0.0095; of the variance ~ sqrt(20) b^2 / sqrt(n) ~ 0.09.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(squares / n - 2 * b * b) / (2 * b * b)).toBeLessThan(0.03);
    expect(Math.abs(positive / n - 0.5)).toBeLessThan(0.01);
    // P(|X| > 3b) = e^-3: the tails are Laplace's, not a normal's.
    let tail = 0;
    for (let i = 0; i < n; i++) if (Math.abs(laplace(b)) > 3 * b) tail++;
    expect(Math.abs(tail / n - Math.exp(-3))).toBeLessThan(0.005);
  });

  it('refuses a scale that is not a finite non-negative number', () => {
    expect(() => laplace(-1)).toThrow(RangeError);
    expect(() => laplace(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(Math.abs(laplace(0))).toBe(0);
  });
});
