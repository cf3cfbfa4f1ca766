import type { Ciphertext, RelinKeys } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { encodeAt, type EncodedConstants, type EncodedLoan, owned } from './encode.ts';
import { Scope } from './scope.ts';

/*
 * Level- and scale-exact CKKS arithmetic. SEAL adds only ciphertexts at the same level and (nearly) the same
 * scale, and a product's scale is the product of scales divided by the prime it is rescaled by. Rather than
 * forcing scales with setScale (an error of |q/2^k - 1|, ~1e-6 per step), every constant is encoded at the
 * scale that makes the result land exactly on the scale the next operation needs.
 * All ciphertexts returned are tracked by the given scope.
 */

export function modSwitchTo(ctx: CkksContext, ct: Ciphertext, level: number): void {
  while (ctx.levelOf(ct) > level) ctx.evaluator.cipherModSwitchToNextInplace(ct);
}

/** A constant for `ct` at `scale`: from the circuit's cache when it has one and the value is one number. */
function encodeFor(ctx: CkksContext, ct: Ciphertext, value: number | Float64Array, scale: number, constants?: EncodedConstants): EncodedLoan {
  if (constants && typeof value === 'number') return constants.lend(ctx, ct, value, scale);
  return owned(encodeAt(ctx, ct, value, scale));
}

/** ct + c, keeping level and scale. */
export function addConst(ctx: CkksContext, ct: Ciphertext, value: number | Float64Array, constants?: EncodedConstants): void {
  using c = encodeFor(ctx, ct, value, ct.scale(), constants);
  ctx.evaluator.addPlainInplace(ct, c.pt);
}

/** A fresh ciphertext c * ct, rescaled once (one level lower) and at exactly `targetScale`. */
export function mulConst(
  ctx: CkksContext,
  scope: Scope,
  ct: Ciphertext,
  value: number | Float64Array,
  targetScale: number,
  constants?: EncodedConstants,
): Ciphertext {
  const q = ctx.primeAt(ctx.levelOf(ct));
  using c = encodeFor(ctx, ct, value, (targetScale * q) / ct.scale(), constants);
  const out = scope.track(new ctx.seal.Ciphertext());
  ctx.evaluator.multiplyPlain(ct, c.pt, out);
  ctx.evaluator.rescaleToNextInplace(out);
  return out;
}

/** Sum_j c_j * ct_j rescaled once to exactly `targetScale`; all inputs at one level and scale. */
export function dotConst(
  ctx: CkksContext,
  scope: Scope,
  cts: readonly Ciphertext[],
  values: readonly number[],
  targetScale: number,
  constants?: EncodedConstants,
): Ciphertext {
  // A product with an all-zero plaintext is "transparent" (it would reveal nothing encrypted), which SEAL
  // refuses: a zero weight simply contributes no term.
  const terms = cts.map((ct, j) => ({ ct, value: values[j]! })).filter((t) => t.value !== 0);
  const first = terms[0]?.ct;
  if (!first) throw new Error('dot product with no ciphertext or only zero weights');
  const q = ctx.primeAt(ctx.levelOf(first));
  const acc = scope.track(new ctx.seal.Ciphertext());
  using term = new ctx.seal.Ciphertext();
  terms.forEach(({ ct, value }, j) => {
    // Accumulate before rescaling: one rescale for the whole sum instead of one per feature.
    using c = encodeFor(ctx, ct, value, (targetScale * q) / ct.scale(), constants);
    if (j === 0) ctx.evaluator.multiplyPlain(ct, c.pt, acc);
    else {
      ctx.evaluator.multiplyPlain(ct, c.pt, term);
      ctx.evaluator.addInplace(acc, term);
    }
  });
  ctx.evaluator.rescaleToNextInplace(acc);
  return acc;
}

/** a * b, relinearized and rescaled; the higher input is first brought down to the lower one's level. */
export function mul(ctx: CkksContext, scope: Scope, a: Ciphertext, b: Ciphertext, relin: RelinKeys): Ciphertext {
  const level = Math.min(ctx.levelOf(a), ctx.levelOf(b));
  using lowered = new Scope();
  // Only an input above the common level is copied (inputs stay usable by the caller); most products
  // in the circuit already meet at one level.
  const at = (ct: Ciphertext): Ciphertext => {
    if (ctx.levelOf(ct) === level) return ct;
    const copy = lowered.track(ct.copy());
    modSwitchTo(ctx, copy, level);
    return copy;
  };
  const out = scope.track(new ctx.seal.Ciphertext());
  if (a === b) ctx.evaluator.square(at(a), out);
  else ctx.evaluator.multiply(at(a), at(b), out);
  ctx.evaluator.relinearizeInplace(out, relin);
  ctx.evaluator.rescaleToNextInplace(out);
  return out;
}

/** Sum of ciphertexts that share a scale, brought to the lowest level among them. */
export function addAll(ctx: CkksContext, scope: Scope, terms: readonly Ciphertext[]): Ciphertext {
  const level = Math.min(...terms.map((t) => ctx.levelOf(t)));
  const out = scope.track(terms[0]!.copy());
  modSwitchTo(ctx, out, level);
  for (const t of terms.slice(1)) {
    if (ctx.levelOf(t) === level) {
      ctx.evaluator.addInplace(out, t);
      continue;
    }
    using lowered = t.copy();
    modSwitchTo(ctx, lowered, level);
    ctx.evaluator.addInplace(out, lowered);
  }
  return out;
}
