import type { Ciphertext } from 'node-seal/throws';
import type { CkksContext } from '../ckks/context.ts';
import { sealCall } from '../ckks/errors.ts';
import type { EncodedConstants } from '../ckks/encode.ts';
import type { EvaluationKeys } from '../ckks/keys.ts';
import { addAll, addConst, dotConst, modSwitchTo, mul, mulConst } from '../ckks/ops.ts';
import { MAX_ENCRYPTABLE } from '../ckks/encrypt.ts';
import { inferenceDepth } from '../ckks/presets.ts';
import { Scope } from '../ckks/scope.ts';
import { loadCiphertext, saveCiphertext } from '../ckks/serialize.ts';

export type Scaling = 'folded' | 'explicit';

/**
 * Where the logistic function is applied. 'exact': the evaluator computes the logit z = w.x + b only (one
 * level, two with explicit scaling) and the key holder applies 1 / (1 + e^-z) after decrypting, so a probability
 * shown is the model's to the last printed digit; the logit reveals nothing the probability does not (the
 * function is a bijection). 'polynomial': the evaluator applies a polynomial approximation, for an output that
 * must stay encrypted (encrypted training's gradient and metrics, anything shipped on encrypted).
 */
export type SigmoidMode = 'exact' | 'polynomial';

/** What the evaluator needs to know of a model: public parameters only, never data or keys. */
export interface EncryptedLrPlan {
  readonly weights: readonly number[];
  readonly bias: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly sigmoid: { readonly interval: number; readonly coefficients: readonly number[] };
  readonly scaling: Scaling;
  readonly mode: SigmoidMode;
}

export class DepthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DepthError';
  }
}

export function checkDepth(ctx: CkksContext, plan: EncryptedLrPlan): void {
  const degree = plan.sigmoid.coefficients.length - 1;
  const need = plan.mode === 'exact' ? logitDepth(plan.scaling) : inferenceDepth(degree, plan.scaling);
  if (need > ctx.topLevel) {
    throw new DepthError(
      `${plan.mode === 'exact' ? 'the logit' : `a degree-${degree} sigmoid`} with ${plan.scaling} scaling needs ${need} CKKS levels; preset ` +
        `"${ctx.preset.name}" has ${ctx.topLevel} (use the "deep" preset, fold the scaler or a lower degree)`,
    );
  }
}

/** Levels the logit alone takes: the dot product, and the homomorphic scaling when it is not folded. */
function logitDepth(scaling: Scaling): number {
  return scaling === 'explicit' ? 2 : 1;
}

/**
 * Encrypted logistic-regression inference on column-packed features: returns the serialized ciphertext of the
 * logit w.x + b (exact mode) or of sigmoid_poly(w.x + b) (polynomial mode) for every slot, and the level it
 * ended at. Runs with evaluation keys only. `constants`, kept by the caller for every block of one plan, saves
 * re-encoding the same weights, bias and coefficients block after block.
 */
export function evaluateLogistic(
  ctx: CkksContext,
  keys: EvaluationKeys,
  features: readonly Uint8Array[],
  plan: EncryptedLrPlan,
  constants?: EncodedConstants,
): { bytes: Uint8Array; level: number } {
  if (features.length !== plan.weights.length) {
    throw new Error(`model has ${plan.weights.length} features, batch has ${features.length} columns`);
  }
  checkDepth(ctx, plan);
  return sealCall(ctx.seal, 'encrypted prediction', () => {
    using scope = new Scope();
    const x = features.map((b, j) => scope.track(loadCiphertext(ctx, b, `feature column ${j + 1}`)));
    if (plan.mode === 'exact') {
      // The logit itself (interval 1): at the context scale its absolute error is ~1e-7, far below what a
      // probability printed to 4 decimals can show through the logistic's slope of at most 1/4.
      // Decryption needs only the primes that hold |z| * scale (z lands at the context scale). The others are
      // dropped from the inputs before any arithmetic (a modulus switch, free in NTT form), so the products, the
      // rescale, the stored result and its decryption all work on fewer primes: a third fewer at the standard
      // preset, where z needs two of the four.
      const depth = logitDepth(plan.scaling);
      const out = ctx.lowestLevelHolding(logitBound(plan) * ctx.scale, ctx.levelOf(x[0]!) - depth);
      for (const ct of x) modSwitchTo(ctx, ct, out + depth);
      const z = linearPredictor(ctx, scope, x, plan, 1, constants);
      return { bytes: saveCiphertext(ctx, z), level: ctx.levelOf(z) };
    }
    const t = linearPredictor(ctx, scope, x, plan, plan.sigmoid.interval, constants);
    const p = polynomial(ctx, scope, t, keys, scaledCoefficients(plan), constants);
    return { bytes: saveCiphertext(ctx, p), level: ctx.levelOf(p) };
  });
}

/*
 * t = (w.x + b) / a, where a is the sigmoid's fitting interval: dividing by a (free, folded into the
 * weights) keeps every power t^k within [-1, 1] and the polynomial's coefficients near 1, so no constant is
 * encoded with only a few bits of precision (c_7 on [-16,16] is ~1e-8 in z; ~1e-1 in t).
 */
function linearPredictor(ctx: CkksContext, scope: Scope, x: Ciphertext[], plan: EncryptedLrPlan, a: number, constants?: EncodedConstants): Ciphertext {
  let inputs = x;
  let weights: number[];
  let bias: number;
  if (plan.scaling === 'explicit') {
    // Homomorphic standard scaling: (x - mu) * (1/sd), one level.
    inputs = x.map((ct, j) => {
      addConst(ctx, ct, -plan.mean[j]!, constants);
      return mulConst(ctx, scope, ct, 1 / plan.std[j]!, ctx.scale, constants);
    });
    weights = plan.weights.map((w) => w / a);
    bias = plan.bias / a;
  } else {
    // Folded: w_j/sd_j on the raw values and the means moved into the bias; saves the scaling level.
    weights = plan.weights.map((w, j) => w / plan.std[j]! / a);
    bias = (plan.bias - plan.weights.reduce((s, w, j) => s + (w * plan.mean[j]!) / plan.std[j]!, 0)) / a;
  }
  const t = dotConst(ctx, scope, inputs, weights, ctx.scale, constants);
  addConst(ctx, t, bias, constants);
  return t;
}

/**
 * The largest |w.x + b| any stored input can give: no value is encrypted beyond MAX_ENCRYPTABLE (the encryptor
 * refuses it), whichever scaling runs. A CKKS coefficient is at most the largest of its slots, so this bounds
 * the decrypted polynomial too. An input past it could only come from an encryptor that skipped that check (a
 * hostile hospital's bundle); the blocks it garbles are its own, as a bundle's blocks hold its patients only.
 */
function logitBound(plan: EncryptedLrPlan): number {
  return plan.weights.reduce((s, w, j) => s + (Math.abs(w) * (MAX_ENCRYPTABLE + Math.abs(plan.mean[j]!))) / plan.std[j]!, Math.abs(plan.bias));
}

/** Coefficients of the sigmoid polynomial in t = z / a: d_k = c_k a^k. */
function scaledCoefficients(plan: EncryptedLrPlan): number[] {
  const a = plan.sigmoid.interval;
  return plan.sigmoid.coefficients.map((c, k) => c * a ** k);
}

/**
 * sum_k d_k t^k with every term landing at the same level-independent scale (the context scale).
 * Term k >= 2 is (d_k t) * t^(k-1): folding the coefficient into the shallow factor costs no extra level.
 * Powers come from a square-and-multiply tree, so t^(k-1) has depth ceil(log2(k-1)).
 */
function polynomial(ctx: CkksContext, scope: Scope, t: Ciphertext, keys: EvaluationKeys, d: number[], constants?: EncodedConstants): Ciphertext {
  const target = ctx.scale;
  const powers = new Map<number, Ciphertext>([[1, t]]);
  const power = (e: number): Ciphertext => {
    const cached = powers.get(e);
    if (cached) return cached;
    const high = 2 ** Math.floor(Math.log2(e));
    const p = high === e ? mul(ctx, scope, power(e / 2), power(e / 2), keys.relin) : mul(ctx, scope, power(high), power(e - high), keys.relin);
    powers.set(e, p);
    return p;
  };
  const terms: Ciphertext[] = [];
  const tLevel = ctx.levelOf(t);
  d.forEach((c, k) => {
    if (k === 0 || c === 0) return;
    if (k === 1) {
      terms.push(mulConst(ctx, scope, t, c, target, constants));
      return;
    }
    const pk = power(k - 1);
    const level = Math.min(tLevel - 1, ctx.levelOf(pk));
    // Choose the scale of c*t so that (c*t) * t^(k-1), rescaled at `level`, has exactly the target scale.
    const ct = mulConst(ctx, scope, t, c, (target * ctx.primeAt(level)) / pk.scale(), constants);
    terms.push(mul(ctx, scope, ct, pk, keys.relin));
  });
  if (terms.length === 0) throw new Error('sigmoid polynomial has no non-constant term');
  const sum = addAll(ctx, scope, terms);
  addConst(ctx, sum, d[0] ?? 0, constants);
  return sum;
}
