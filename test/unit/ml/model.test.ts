import { describe, expect, it } from 'vitest';
import { linear } from '../../../src-main/ml/logistic.ts';
import { foldScaler, parseModel, type Model } from '../../../src-main/ml/model.ts';
import { gaussian, mulberry32 } from '../../../src-main/ml/random.ts';
import { fitScaler, transform } from '../../../src-main/ml/scaler.ts';

function validModel(): Model {
  return {
    format: 'homopai.model',
    version: 1,
    id: 'model-2024-pilot',
    createdAt: '2024-05-01T10:00:00.000Z',
    features: [
      { name: 'temperature_c', unit: '°C' },
      { name: 'systolic_bp', unit: 'mmHg' },
      { name: 'respiratory_rate', unit: '/min' },
    ],
    scaler: { mean: [37.1, 121.4, 16.2], std: [0.8, 15.3, 4.1] },
    weights: [0.65, -0.73, 1.06],
    bias: -3.99,
    sigmoid: { degree: 3, interval: 8, coefficients: [0.5, 0.15, 0, -0.0016], maxError: 0.114 },
    training: { method: 'newton', rows: 19, positives: 3, l2: 0.01, source: 'pilot-vitals.csv' },
  };
}

describe('parseModel', () => {
  it('round-trips through JSON', () => {
    const model = validModel();
    expect(parseModel(JSON.parse(JSON.stringify(model)))).toEqual(model);
  });

  it('rejects bad JSON with the offending path in the message', () => {
    const cases: [unknown, RegExp][] = [
      [null, /\(root\)/],
      [{ ...validModel(), format: 'other' }, /format/],
      [{ ...validModel(), version: 2 }, /version/],
      [{ ...validModel(), scaler: { std: [1, 1, 1] } }, /scaler\.mean/],
      [{ ...validModel(), features: [{ name: 'a', unit: 'b' }, { name: 'c', unit: 7 }, { name: 'd', unit: '' }] }, /features\[1\]\.unit/],
      [{ ...validModel(), training: { ...validModel().training, rows: 1.5 } }, /training\.rows/],
      [{ ...validModel(), weights: [1, 2] }, /weights: has 2 entries but the model has 3 features/],
      [{ ...validModel(), scaler: { mean: [0, 0, 0], std: [1, 0, 1] } }, /scaler\.std\[1\]/],
      [{ ...validModel(), sigmoid: { ...validModel().sigmoid, degree: 5 } }, /sigmoid\.coefficients/],
    ];
    for (const [json, path] of cases) {
      expect(() => parseModel(json)).toThrow(path);
      expect(() => parseModel(json)).toThrow(/^Invalid model: /);
    }
  });

  it('lists every issue, not only the first', () => {
    expect(() => parseModel({ ...validModel(), id: 5, bias: 'x' })).toThrow(/id: .*; bias: /);
  });
});

describe('foldScaler', () => {
  it('gives the same linear predictions on raw data as the unfolded model on scaled data', () => {
    const rand = mulberry32(99);
    const means = [37, 120, 16];
    const spreads = [0.8, 18, 4];
    const raw = means.map((m, j) => Float64Array.from({ length: 500 }, () => m + spreads[j]! * gaussian(rand)));
    const scaler = fitScaler(raw);
    const model: Model = { ...validModel(), scaler };
    const explicit = linear(transform(scaler, raw), { weights: model.weights, bias: model.bias });
    const folded = linear(raw, foldScaler(model));
    explicit.forEach((z, i) => expect(Math.abs(z - folded[i]!)).toBeLessThan(1e-12));
  });

  it('matches the formula on a hand example', () => {
    // w = [2], mean 10, std 4, b = 1: folded w = 0.5, folded b = 1 - 2 * 10 / 4 = -4.
    const model: Model = { ...validModel(), features: [{ name: 'x', unit: '' }], scaler: { mean: [10], std: [4] }, weights: [2], bias: 1 };
    expect(foldScaler(model)).toEqual({ weights: [0.5], bias: -4 });
  });
});
