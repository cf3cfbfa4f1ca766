import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balanceClasses, stratifiedSplit } from '../../../src-main/ml/split.ts';

const pilotLabels = [...new Array<number>(16).fill(0), 1, 1, 1];

function count(labels: number[], indices: Uint32Array, label: number): number {
  return Array.from(indices).filter((i) => labels[i] === label).length;
}

function isSorted(indices: Uint32Array): boolean {
  return indices.every((v, i) => i === 0 || indices[i - 1]! < v);
}

describe('stratifiedSplit', () => {
  it('splits each class proportionally, with at least one test example per class', () => {
    // 16 negatives * 0.25 = 4; 3 positives * 0.25 = 0.75 -> 1.
    const { train, test } = stratifiedSplit(pilotLabels, 0.25, 1);
    expect(count(pilotLabels, test, 0)).toBe(4);
    expect(count(pilotLabels, test, 1)).toBe(1);
    expect(count(pilotLabels, train, 1)).toBe(2);
    // 3 positives * 0.1 = 0.3 would round to 0; the clamp keeps one for evaluation.
    expect(count(pilotLabels, stratifiedSplit(pilotLabels, 0.1, 1).test, 1)).toBe(1);
    // 3 * 0.9 = 2.7 -> 3 would leave no positive to train on; clamped to 2.
    expect(count(pilotLabels, stratifiedSplit(pilotLabels, 0.9, 1).train, 1)).toBe(1);
  });

  it('is deterministic per seed, sorted, disjoint and complete', () => {
    const a = stratifiedSplit(pilotLabels, 0.3, 42);
    const b = stratifiedSplit(pilotLabels, 0.3, 42);
    expect(a).toEqual(b);
    const seeds = [1, 2, 3, 4, 5].map((s) => Array.from(stratifiedSplit(pilotLabels, 0.3, s).test).join());
    expect(new Set(seeds).size).toBeGreaterThan(1);
    expect(isSorted(a.train) && isSorted(a.test)).toBe(true);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(pilotLabels.map((_, i) => i));
  });

  it('keeps a singleton class in training', () => {
    const { train, test } = stratifiedSplit([0, 0, 0, 0, 1], 0.4, 3);
    expect(Array.from(train)).toContain(4);
    expect(count([0, 0, 0, 0, 1], test, 0)).toBe(2);
  });

  it('holds its invariants on random label vectors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 1), { maxLength: 200 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.integer(),
        (labels, fraction, seed) => {
          const { train, test } = stratifiedSplit(labels, fraction, seed);
          expect(train.length + test.length).toBe(labels.length);
          expect(new Set([...train, ...test]).size).toBe(labels.length);
          expect(isSorted(train) && isSorted(test)).toBe(true);
          for (const label of [0, 1]) {
            const size = labels.filter((l) => l === label).length;
            const inTest = count(labels, test, label);
            if (size >= 2) {
              expect(inTest).toBeGreaterThanOrEqual(1);
              expect(inTest).toBeLessThanOrEqual(size - 1);
              expect(Math.abs(inTest - size * fraction)).toBeLessThanOrEqual(1);
            } else {
              expect(inTest).toBe(0);
            }
          }
        },
      ),
    );
  });

  it('rejects fractions outside (0, 1)', () => {
    expect(() => stratifiedSplit(pilotLabels, 0, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit(pilotLabels, 1, 1)).toThrow(RangeError);
  });
});

describe('balanceClasses', () => {
  it('undersamples the majority to the minority size, keeping every minority row', () => {
    const kept = balanceClasses(pilotLabels, 73);
    expect(kept).toHaveLength(6);
    expect(count(pilotLabels, kept, 0)).toBe(3);
    expect(Array.from(kept).slice(-3)).toEqual([16, 17, 18]);
    expect(isSorted(kept)).toBe(true);
  });

  it('is deterministic per seed and varies between seeds', () => {
    expect(balanceClasses(pilotLabels, 73)).toEqual(balanceClasses(pilotLabels, 73));
    const choices = [1, 2, 3, 4, 5].map((s) => Array.from(balanceClasses(pilotLabels, s)).join());
    expect(new Set(choices).size).toBeGreaterThan(1);
  });
});
