import type { Ciphertext, GaloisKeys } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';
import { saveCiphertext } from './serialize.ts';

/*
 * Slot sums by rotate-and-add: after adding the ciphertext rotated (cyclically) by 1, 2, 4, ..., N/4, every slot
 * holds the sum of all N/2 slots. Rotations change neither level nor scale, so a sum costs no multiplicative
 * depth, and each step needs only the Galois key of its power-of-two step.
 *
 * Always over every slot, never a shorter window: after a window of w < N/2 slots, slot i holds the sum of slots
 * i..i+w-1, and the difference of two neighbouring slots is a single patient's term. The key holder decrypts
 * whole ciphertexts, so only a full sum (the same total in every slot) is safe to hand over.
 */

/** The rotation steps a slot sum needs: 1, 2, 4, ..., slotCount/2 (12 keys at N=8192 instead of all ~25). */
export function slotSumSteps(slotCount: number): number[] {
  return Array.from({ length: Math.log2(slotCount) }, (_, i) => 2 ** i);
}

/** In place: every slot of `ct` becomes the sum of all its slots. */
export function slotSumInplace(ctx: CkksContext, ct: Ciphertext, galois: GaloisKeys): void {
  sealCall(ctx.seal, 'summing slots', () => {
    using rotated = new ctx.seal.Ciphertext();
    for (const step of slotSumSteps(ctx.slotCount)) {
      ctx.evaluator.rotateVector(ct, step, galois, rotated);
      ctx.evaluator.addInplace(ct, rotated);
    }
  });
}

declare const slotSum: unique symbol;

/**
 * A serialized ciphertext whose every slot holds the same total over all slots. Only saveSlotSum makes one,
 * so the decryption policy's cohort totals (store/provenance.ts) cannot be handed a stored column instead.
 */
export type SlotSumBytes = Uint8Array & { readonly [slotSum]: true };

/** Sums `ct` over its slots in place and serializes the result: a total, no per-slot value left. */
export function saveSlotSum(ctx: CkksContext, ct: Ciphertext, galois: GaloisKeys): SlotSumBytes {
  slotSumInplace(ctx, ct, galois);
  return saveCiphertext(ctx, ct) as SlotSumBytes;
}
