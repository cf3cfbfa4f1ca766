import type { Ciphertext } from 'node-seal/throws';
import type { CkksContext } from '../ckks/context.ts';
import { sealCall } from '../ckks/errors.ts';
import type { EvaluationKeys } from '../ckks/keys.ts';
import { addConst, mul, mulConst } from '../ckks/ops.ts';
import { saveSlotSum, type SlotSumBytes } from '../ckks/rotate.ts';
import { Scope } from '../ckks/scope.ts';
import { loadCiphertext } from '../ckks/serialize.ts';

/*
 * Encrypted cohort totals for the statistics: one column over every block of every hospital, summed across
 * blocks and then over the slots (rotations, no depth), so the key holder decrypts one number per column and
 * never a patient's value. Each block is first multiplied by its mask (1 at a patient's slot, 0 elsewhere), so
 * whatever a hospital's encryptor left in unused slots cannot reach a total. Per-slot values stay unscaled: a
 * rescale adds ~1e-7 of absolute noise per slot, negligible next to raw vitals, and one or two levels below
 * the top the remaining modulus (2^85 at `standard`) holds totals of any realistic cohort; the key holder
 * divides by n. Masks must not be all zero (SEAL refuses a product that is identically zero).
 */

function summed(ctx: CkksContext, keys: EvaluationKeys, terms: Ciphertext[]): SlotSumBytes {
  const [sum, ...rest] = terms;
  if (!sum) throw new Error('a total over no blocks');
  if (!keys.galois) throw new Error('slot sums need Galois keys');
  for (const t of rest) ctx.evaluator.addInplace(sum, t);
  return saveSlotSum(ctx, sum, keys.galois);
}

/** sum over blocks and slots of mask_b * column_b: the column's cohort total, in every slot of the result. */
export function maskedTotal(ctx: CkksContext, keys: EvaluationKeys, columns: readonly Uint8Array[], masks: readonly Float64Array[]): SlotSumBytes {
  return sealCall(ctx.seal, 'an encrypted total', () => {
    using scope = new Scope();
    const terms = columns.map((bytes, b) => mulConst(ctx, scope, scope.track(loadCiphertext(ctx, bytes)), masks[b]!, ctx.scale));
    return summed(ctx, keys, terms);
  });
}

/**
 * sum over blocks and slots of (mask_b * (column_b - center))^2: with the cohort mean as center, n times the
 * population variance. Centring first (the mean is an aggregate the key holder already released) avoids the
 * cancellation of E[x^2] - E[x]^2 on features with a large mean and a small spread.
 */
export function maskedSquaredDeviations(
  ctx: CkksContext,
  keys: EvaluationKeys,
  columns: readonly Uint8Array[],
  masks: readonly Float64Array[],
  center: number,
): SlotSumBytes {
  return sealCall(ctx.seal, 'an encrypted sum of squares', () => {
    using scope = new Scope();
    const terms = columns.map((bytes, b) => {
      const ct = scope.track(loadCiphertext(ctx, bytes));
      addConst(ctx, ct, -center);
      // mask^2 = mask: one product masks and prepares the square.
      const m = mulConst(ctx, scope, ct, masks[b]!, ctx.scale);
      return mul(ctx, scope, m, m, keys.relin);
    });
    return summed(ctx, keys, terms);
  });
}
