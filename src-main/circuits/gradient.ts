import type { Ciphertext } from 'node-seal/throws';
import type { CkksContext } from '../ckks/context.ts';
import { sealCall } from '../ckks/errors.ts';
import type { EvaluationKeys } from '../ckks/keys.ts';
import { addConst, dotConst, modSwitchTo, mul, mulConst } from '../ckks/ops.ts';
import { saveSlotSum, type SlotSumBytes } from '../ckks/rotate.ts';
import { Scope } from '../ckks/scope.ts';
import { loadCiphertext } from '../ckks/serialize.ts';
import { DepthError } from './inference.ts';
import type { LogisticWeights } from '../ml/logistic.ts';

/*
 * One epoch of full-batch logistic-regression gradient descent on column-packed ciphertexts, evaluated with
 * public keys only. The weights are plaintext (the key holder's), the data never is. Per epoch the evaluator
 * returns the aggregated gradient of the mean log-loss, with the polynomial sigmoid p(z) = d0 + d1 t + d3 t^3
 * in t = z / a (a = the polynomial's interval), over the standardized features x~ = (x - mu) / sd:
 *
 *   g_j = (1/n) sum_i (p_i - y_i) x~_ij        g_bias = (1/n) sum_i (p_i - y_i)
 *
 * d + 1 numbers, each summed over every labeled patient of every block. SEAL has no bootstrapping, so the key
 * holder decrypts only these sums and steps the weights in plaintext; nothing per patient is ever decrypted.
 *
 * Depth. The textbook order, p(z) then (p - y) * x~_j, needs 4 levels (z 1, the cube 2, the product 1).
 * Factoring the odd part as t * (d1 + d3 t^2) and multiplying t by x~_j *before* the bracket needs 3, which the
 * 128-bit N=8192 `standard` preset has ([50, 35, 35, 35, 50]), at about a quarter of the `deep` preset's cost
 * per operation and a tenth of its Galois-key size. With r = k t, k = sqrt|d3| (folded into the weights) and a
 * per-slot weight c (below):
 *
 *   top     x_j, y                           fresh
 *   top-1   r = k t (folded dot product)     x^_j = c mask (x_j - mu_j) / (sd_j k)     (precomputed once)
 *   top-2   s = d1 + sign(d3) r^2            v_j = r x^_j          v_0 = c r mask / k
 *   top-3   G_j = s v_j = c (p_i - d0) x~_ij mask_i, per slot
 *
 * The remaining c (d0 - y_i) x~_ij mask_i terms do not depend on the weights: computed once, added every epoch.
 * Masks (1 at a labeled patient, 0 elsewhere) ride on multiplications that happen anyway, so unused slots and
 * unlabeled patients contribute nothing and no level is spent on them. As in ops.ts, each constant is encoded
 * at the scale that makes every product land exactly on the scale of what it is added to (the context scale
 * at top-3); the prime sizes are read from the context, not assumed.
 *
 * Precision and range. Every rescale adds ~1e-7 of absolute noise per slot at scale 2^35, whatever the value,
 * so per-slot values stay O(1) (dividing by n in the slots would make the noise of a sum grow like n relative
 * to the mean) and the key holder divides by c n after decryption. At top-3 only the first prime q0 is left:
 * a decrypted value must stay below q0 / (2 scale) (2^14 for `standard`). |sum_i (p_i - y_i) x~_ij| <= n
 * max|p - y| (Cauchy-Schwarz, sum x~^2 = n), and |p - y| <= ~1.1 on the polynomial's interval, so c = 1 up to
 * n = q0 / (8 scale) patients and c shrinks as 1/n beyond, keeping a 4x margin.
 */

export const TRAINING_DEPTH = 3;

export interface TrainingBlock {
  /** Feature ciphertexts of one block, in the plan's feature order, at the top level and context scale. */
  features: readonly Uint8Array[];
  label: Uint8Array;
  /** 1 in the slot of each labeled patient, 0 elsewhere (length = slot count). */
  mask: Float64Array;
}

export interface TrainingPlan {
  /** Standard scaler of the features (from the encrypted cohort statistics). */
  mean: readonly number[];
  std: readonly number[];
  /** Degree-3 odd polynomial (c0 + c1 z + c3 z^3, c2 = 0) fitted on [-interval, interval]. */
  sigmoid: { readonly interval: number; readonly coefficients: readonly number[] };
}

/** The polynomial in t = z / a, split as the circuit uses it: d0 + t (d1 + sign * k^2 t^2). */
function splitSigmoid(plan: TrainingPlan): { d0: number; d1: number; k: number; negative: boolean } {
  const c = plan.sigmoid.coefficients;
  const a = plan.sigmoid.interval;
  if (c.length !== 4 || c[2] !== 0 || !c[3]) {
    throw new DepthError('encrypted training evaluates the odd degree-3 sigmoid polynomial (c2 = 0, c3 != 0); fit one with degree 3');
  }
  const d3 = c[3] * a ** 3;
  return { d0: c[0]!, d1: c[1]! * a, k: Math.sqrt(Math.abs(d3)), negative: d3 < 0 };
}

/**
 * Holds a cohort's ciphertexts and the weight-independent parts of the gradient for the length of a training
 * run (SEAL objects, freed on dispose), and evaluates the encrypted aggregated gradient at given weights.
 */
export class EncryptedGradient implements Disposable {
  private readonly ctx: CkksContext;
  private readonly keys: EvaluationKeys;
  private readonly plan: TrainingPlan;
  private readonly scope = new Scope();
  private readonly poly: ReturnType<typeof splitSigmoid>;
  private readonly x: Ciphertext[][];
  private readonly xHat: Ciphertext[][];
  private readonly biasMask: Float64Array[];
  /** Per output (features, then bias): sum over blocks of the weight-independent (d0 - y) terms, at top-3. */
  private readonly offsets: Ciphertext[] = [];
  private readonly scaleV0: number;
  /** Decrypted slot sums are c n times the gradient. */
  private readonly sumScale: number;

  constructor(ctx: CkksContext, keys: EvaluationKeys, blocks: readonly TrainingBlock[], plan: TrainingPlan) {
    if (ctx.topLevel < TRAINING_DEPTH) {
      throw new DepthError(`encrypted training needs ${TRAINING_DEPTH} CKKS levels; preset "${ctx.preset.name}" has ${ctx.topLevel}`);
    }
    if (!keys.galois) throw new Error('encrypted training sums slots: the evaluation keys need Galois keys');
    // A block without a labeled patient contributes nothing (and its all-zero masks cannot be encoded).
    const labeled = blocks.filter((b) => b.mask.some((m) => m !== 0));
    if (labeled.length === 0) throw new Error('encrypted training needs at least one labeled patient');
    // The gradient is a mean over the labeled patients (the ones in the masks).
    const n = labeled.reduce((sum, b) => sum + b.mask.reduce((s, m) => s + m, 0), 0);
    this.ctx = ctx;
    this.keys = keys;
    this.plan = plan;
    this.poly = splitSigmoid(plan);
    const top = ctx.topLevel;
    const q1 = ctx.primeAt(top - 1);
    const q2 = ctx.primeAt(top - 2);
    const scale = ctx.scale;
    // x^_j's scale: s (scale^2 / q1) times v_j (scale * scaleX / q1), rescaled by q2, must be the context scale.
    const scaleX = (q1 * q1 * q2) / (scale * scale);
    // v_0's scale, for the same reason; and k (d0 - y)'s, so that it times x^_j, rescaled by q1, is `scale`.
    this.scaleV0 = (q1 * q2) / scale;
    const scaleY = (scale * q1) / scaleX;
    const { d0, k } = this.poly;
    const c = Math.min(1, ctx.primeAt(0) / (8 * scale * n));
    this.sumScale = c * n;
    const d = plan.mean.length;
    this.x = [];
    this.xHat = [];
    this.biasMask = [];
    try {
      const offsets: Ciphertext[][] = Array.from({ length: d + 1 }, () => []);
      sealCall(ctx.seal, 'preparing encrypted training', () => {
        using scratch = new Scope();
        for (const [b, block] of labeled.entries()) {
          if (block.features.length !== d) throw new Error(`block ${b + 1} has ${block.features.length} feature columns, the plan ${d}`);
          const x = block.features.map((bytes, j) => this.scope.track(loadCiphertext(ctx, bytes, `feature column ${j + 1}`)));
          const xHat = x.map((ct, j) => {
            using centred = ct.copy();
            addConst(ctx, centred, -plan.mean[j]!);
            return mulConst(ctx, this.scope, centred, block.mask.map((m) => (c * m) / (plan.std[j]! * k)), scaleX);
          });
          const y = scratch.track(loadCiphertext(ctx, block.label, 'the label column'));
          ctx.evaluator.negateInplace(y);
          addConst(ctx, y, d0);
          const yk = mulConst(ctx, scratch, y, k, scaleY);
          xHat.forEach((xh, j) => offsets[j]!.push(mul(ctx, scratch, yk, xh, keys.relin)));
          offsets[d]!.push(mulConst(ctx, scratch, y, block.mask.map((m) => c * m), scale));
          this.x.push(x);
          this.xHat.push(xHat);
          this.biasMask.push(block.mask.map((m) => (c * m) / k));
        }
        // Summed over blocks now, at the level and scale every epoch's terms land on.
        for (const terms of offsets) {
          const total = this.scope.track(terms[0]!.copy());
          modSwitchTo(ctx, total, top - TRAINING_DEPTH);
          for (const t of terms.slice(1)) {
            modSwitchTo(ctx, t, top - TRAINING_DEPTH);
            ctx.evaluator.addInplace(total, t);
          }
          this.offsets.push(total);
        }
      });
    } catch (e) {
      this.scope[Symbol.dispose]();
      throw e;
    }
  }

  /**
   * The aggregated gradient at `weights` (in the standardized feature space): d + 1 serialized ciphertexts,
   * features then bias, each holding c n g in every slot (a sum over all labeled patients), for the key
   * holder, who turns the decrypted sums into the gradient with gradientOf.
   */
  evaluate(weights: LogisticWeights): SlotSumBytes[] {
    const { ctx, keys, plan } = this;
    const { d1, k, negative } = this.poly;
    const a = plan.sigmoid.interval;
    // r = k (w . x~ + b) / a on the raw encrypted columns: the scaler and k / a are folded into the weights.
    const wr = weights.weights.map((w, j) => (k * w) / (a * plan.std[j]!));
    const br = (k * (weights.bias - weights.weights.reduce((s, w, j) => s + (w * plan.mean[j]!) / plan.std[j]!, 0))) / a;
    // SEAL refuses a product with an all-zero plaintext (a "transparent" result), so zero weights are left out.
    const used = wr.flatMap((w, j) => (w === 0 ? [] : [j]));
    if (used.length === 0 && br !== 0) throw new RangeError('encrypted training: all weights are zero but the bias is not');
    return sealCall(ctx.seal, 'encrypted gradient', () => {
      using epoch = new Scope();
      const totals = this.offsets.map((o) => epoch.track(o.copy()));
      // At the starting point (all weights and the bias zero) every p_i is d0: the weight-independent terms
      // are the whole gradient.
      if (used.length > 0) {
        this.x.forEach((x, b) => {
          using block = new Scope();
          const r = dotConst(ctx, block, used.map((j) => x[j]!), used.map((j) => wr[j]!), ctx.scale);
          addConst(ctx, r, br);
          const s = mul(ctx, block, r, r, keys.relin);
          if (negative) ctx.evaluator.negateInplace(s);
          addConst(ctx, s, d1);
          this.xHat[b]!.forEach((xh, j) => {
            const v = mul(ctx, block, r, xh, keys.relin);
            ctx.evaluator.addInplace(totals[j]!, mul(ctx, block, s, v, keys.relin));
          });
          const v0 = mulConst(ctx, block, r, this.biasMask[b]!, this.scaleV0);
          ctx.evaluator.addInplace(totals[x.length]!, mul(ctx, block, s, v0, keys.relin));
        });
      }
      return totals.map((t) => saveSlotSum(ctx, t, keys.galois!));
    });
  }

  /** The gradient from the decrypted slot sums of evaluate's ciphertexts, in the same order. */
  gradientOf(sums: readonly number[]): LogisticWeights {
    const g = sums.map((v) => v / this.sumScale);
    return { weights: g.slice(0, -1), bias: g.at(-1)! };
  }

  [Symbol.dispose](): void {
    this.scope[Symbol.dispose]();
  }
}

/**
 * The key holder's plaintext step, given the decrypted aggregated gradient of the mean log-loss (without the
 * ridge term, which is added here: the weights are plaintext). The same update and Nesterov schedule as
 * ml/logistic.ts trainGradientDescent, so encrypted training and its plaintext twin produce the same weights
 * from the same gradients (tested).
 */
export class KeyHolderDescent {
  private readonly opts: { lr: number; l2: number; nesterov: boolean };
  private current: LogisticWeights;
  private lookAhead: LogisticWeights;
  private lambda = 1;

  constructor(features: number, opts: { lr: number; l2: number; nesterov: boolean }) {
    this.opts = opts;
    this.current = { weights: new Array<number>(features).fill(0), bias: 0 };
    this.lookAhead = this.current;
  }

  /** Where the next gradient is evaluated: the look-ahead point with Nesterov, else the weights. */
  get point(): LogisticWeights {
    return this.lookAhead;
  }

  get weights(): LogisticWeights {
    return this.current;
  }

  step(gradient: LogisticWeights): void {
    const { lr, l2, nesterov } = this.opts;
    const at = this.lookAhead;
    const stepped: LogisticWeights = {
      weights: at.weights.map((w, j) => w - lr * (gradient.weights[j]! + l2 * w)),
      bias: at.bias - lr * gradient.bias,
    };
    if (nesterov) {
      const nextLambda = (1 + Math.sqrt(1 + 4 * this.lambda * this.lambda)) / 2;
      const gamma = (1 - this.lambda) / nextLambda;
      this.lookAhead = {
        weights: stepped.weights.map((w, j) => (1 - gamma) * w + gamma * this.current.weights[j]!),
        bias: (1 - gamma) * stepped.bias + gamma * this.current.bias,
      };
      this.lambda = nextLambda;
    } else {
      this.lookAhead = stepped;
    }
    this.current = stepped;
  }
}
