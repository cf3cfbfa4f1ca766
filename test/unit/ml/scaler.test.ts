import { describe, expect, it } from 'vitest';
import { fitScaler, transform } from '../../../src-main/ml/scaler.ts';

describe('StandardScaler', () => {
  it('fits population mean and std', () => {
    // [1, 2, 3, 4]: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, population variance 5/4.
    const s = fitScaler([Float64Array.of(1, 2, 3, 4), Float64Array.of(10, 10, 30, 30)]);
    expect(s.mean).toEqual([2.5, 20]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(s.std[1]).toBeCloseTo(10, 15);
  });

  it('maps constant features to zeros instead of NaN', () => {
    const s = fitScaler([Float64Array.of(98, 98, 98)]);
    expect(s.std).toEqual([1]);
    expect(Array.from(transform(s, [Float64Array.of(98, 98, 98)])[0]!)).toEqual([0, 0, 0]);
  });

  it('transforms training data to zero mean and unit population variance', () => {
    const columns = [Float64Array.of(36.5, 37.2, 39.4, 36.9, 35.8), Float64Array.of(118, 92, 131, 140, 84)];
    const scaled = transform(fitScaler(columns), columns);
    for (const column of scaled) {
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length;
      expect(mean).toBeCloseTo(0, 12);
      expect(variance).toBeCloseTo(1, 12);
    }
  });

  it('rejects a column count that does not match the scaler', () => {
    expect(() => transform({ mean: [0], std: [1] }, [])).toThrow(RangeError);
    expect(() => fitScaler([new Float64Array(0)])).toThrow(RangeError);
  });
});
