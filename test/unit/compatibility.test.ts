import { describe, expect, it } from 'vitest';
import { featureSet, largestPool, missingFeatures, whyNotPoolable, whyNotScorable } from '../../src-preload/compatibility.ts';

const f = (...names: string[]) => names.map((name) => ({ name }));
const batch = (id: number, rows: number, features: string[], over: { keyFingerprint?: string; integrity?: 'ok' | 'damaged' } = {}) => ({
  id,
  rows,
  features: f(...features),
  keyFingerprint: over.keyFingerprint ?? 'K',
  integrity: over.integrity ?? 'ok',
});
const VITALS = ['temperature', 'systolic_bp', 'spo2'];

describe('which batches a model scores and which pool', () => {
  it('a model scores a batch holding its features, in any order and among others', () => {
    const model = { features: f('spo2', 'temperature') };
    expect(missingFeatures(model, batch(1, 5, VITALS))).toEqual([]);
    expect(whyNotScorable(batch(1, 5, VITALS), model, 'K')).toBeNull();
    expect(whyNotScorable(batch(2, 5, ['weight_kg', 'spo2']), model, 'K')).toBe("lacks the model's feature temperature");
    expect(whyNotScorable(batch(2, 5, ['weight_kg']), model, 'K')).toBe("lacks the model's features spo2, temperature");
  });

  it('a batch under another key set, or damaged, is refused whatever the model', () => {
    expect(whyNotScorable(batch(1, 5, VITALS, { keyFingerprint: 'OLD' }), null, 'K')).toBe('encrypted under another key set');
    expect(whyNotScorable(batch(1, 5, VITALS, { integrity: 'damaged' }), { features: f('spo2') }, 'K')).toBe('failed its integrity check');
  });

  it('pools batches with the same feature set only, and offers the largest such group first', () => {
    const a = batch(1, 400, VITALS);
    const b = batch(2, 400, [...VITALS].reverse());
    const c = batch(3, 900, ['age', 'glucose']);
    const d = batch(4, 100, ['age', 'glucose']);
    const old = batch(5, 5_000, ['age', 'glucose'], { keyFingerprint: 'OLD' });
    expect(featureSet(a)).toBe(featureSet(b));
    expect(whyNotPoolable(b, [a], 'K')).toBeNull();
    expect(whyNotPoolable(c, [a], 'K')).toBe("its features differ from the chosen batches' (spo2, systolic_bp, temperature)");
    expect(whyNotPoolable(c, [], 'K')).toBeNull();
    expect(largestPool([a, b, c, d, old], 'K').map((x) => x.id)).toEqual([3, 4]);
  });
});
