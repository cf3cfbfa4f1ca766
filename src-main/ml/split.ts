import { mulberry32 } from './random.ts';

/** Row indices grouped by label value, classes in ascending label order so the result never depends on row order of first appearance. */
function indicesByClass(labels: ArrayLike<number>): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (Number.isNaN(label)) throw new RangeError(`split: label ${i} is NaN`);
    const group = groups.get(label);
    if (group) group.push(i);
    else groups.set(label, [i]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, rows]) => rows);
}

/** In-place Fisher–Yates shuffle driven by the seeded generator. */
function shuffle(values: number[], rand: () => number): number[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

function sorted(indices: number[]): Uint32Array {
  return Uint32Array.from(indices).sort();
}

/**
 * Deterministic stratified train/test split. Each class contributes round(size * testFraction) test rows,
 * clamped to [1, size - 1] when it has at least two rows: with 3 positives out of 19 an unclamped 20% split
 * could leave the test set without a single at-risk patient (recall undefined) or the training set without
 * one (nothing to learn). A singleton class stays in training.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  testFraction: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array } {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`stratifiedSplit: testFraction must be in (0, 1), got ${testFraction}`);
  }
  const rand = mulberry32(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const rows of indicesByClass(labels)) {
    shuffle(rows, rand);
    const testCount = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * testFraction)));
    test.push(...rows.slice(0, testCount));
    train.push(...rows.slice(testCount));
  }
  return { train: sorted(train), test: sorted(test) };
}

/**
 * Seeded undersampling: every class is reduced to the size of the smallest one (for binary labels,
 * the majority is undersampled to the minority count). This reproduces TenSEAL's framingham tutorial,
 * which balances the classes this way before encrypted training.
 */
export function balanceClasses(labels: ArrayLike<number>, seed: number): Uint32Array {
  const groups = indicesByClass(labels);
  const size = Math.min(...groups.map((rows) => rows.length));
  const rand = mulberry32(seed);
  return sorted(groups.flatMap((rows) => shuffle(rows, rand).slice(0, size)));
}
