import type { Ciphertext, Plaintext, RelinKeys } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
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

/** Encodes one constant (or one value per slot) at `scale`, at the level of `ct`; the caller deletes it. */
function encodeFor(ctx: CkksContext, ct: Ciphertext, value: number | Float64Array, scale: number): Plaintext {
  const { seal, encoder } = ctx;
  const pt = new seal.Plaintext();
  const values = typeof value === 'number' ? new Float64Array(ctx.slotCount).fill(value) : value;
  using pid = ct.parmsId();
  encoder.encode(values, scale, pt);
  ctx.evaluator.plainModSwitchToInplace(pt, pid);
  return pt;
}

/** ct + c, keeping level and scale. */
export function addConst(ctx: CkksContext, ct: Ciphertext, value: number | Float64Array): void {
  using pt = encodeFor(ctx, ct, value, ct.scale());
  ctx.evaluator.addPlainInplace(ct, pt);
}

/** A fresh ciphertext c * ct, rescaled once (one level lower) and at exactly `targetScale`. */
export function mulConst(
  ctx: CkksContext,
  scope: Scope,
  ct: Ciphertext,
  value: number | Float64Array,
  targetScale: number,
): Ciphertext {
  const q = ctx.primeAt(ctx.levelOf(ct));
  using pt = encodeFor(ctx, ct, value, (targetScale * q) / ct.scale());
  const out = scope.track(new ctx.seal.Ciphertext());
  ctx.evaluator.multiplyPlain(ct, pt, out);
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
    using pt = encodeFor(ctx, ct, value, (targetScale * q) / ct.scale());
    if (j === 0) ctx.evaluator.multiplyPlain(ct, pt, acc);
    else {
      ctx.evaluator.multiplyPlain(ct, pt, term);
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
