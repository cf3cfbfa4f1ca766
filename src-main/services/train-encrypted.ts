import { randomUUID } from 'node:crypto';
import type { EpochReport } from '../../src-preload/contract.ts';
import type { CkksContext } from '../ckks/context.ts';
import { EvaluationKeys } from '../ckks/keys.ts';
import { type CohortBlock, loadCohort } from './pooled-cohort.ts';
import { EncryptedGradient, KeyHolderDescent } from '../circuits/gradient.ts';
import { type Model, parseModel } from '../ml/model.ts';
import { evaluateLogistic } from '../circuits/inference.ts';
import { EncodedConstants } from '../ckks/encode.ts';
import type { LogisticWeights } from '../ml/logistic.ts';
import { classificationMetrics, logLoss } from '../ml/metrics.ts';
import { fitSigmoidPoly, type SigmoidPoly } from '../ml/sigmoid-poly.ts';
import { cohortTotal } from './provenance.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { KeyHolder } from './key-sets.ts';
import { breathe, type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import { decryptUnderPolicy, minPatients, requireUnits } from './policy.ts';
import { releasedGradient, roundTo } from './precision.ts';
import { decryptScores } from './evaluate.ts';
import { releasePolicy } from './release-policy.ts';
import { type CohortStats, cohortRequest, computeCohortStats, featureRanges, storedCohortStats, withGaloisKeys } from './stats.ts';
import type { Caller } from './caller.ts';
import { registerModel } from './models.ts';

export interface EncryptedTrainingOptions {
  epochs?: number;
  lr?: number;
  /** Ridge strength on the mean loss, as in ml/logistic.ts (bias excluded). */
  l2?: number;
  nesterov?: boolean;
  /** Interval [-a, a] of the degree-3 sigmoid polynomial used in training and in the model. */
  sigmoidInterval?: number;
  /** Training-set loss, accuracy and AUC after every epoch (an encrypted prediction pass over the cohort). */
  metrics?: boolean;
}

/**
 * TenSEAL's encrypted-training tutorial on framingham: 5 epochs of full-batch descent at learning rate 1 with a
 * 0.05 ridge, degree-3 sigmoid. An interval of 8 covers the scores of standardized features with such weights.
 */
export const ENCRYPTED_TRAINING_DEFAULTS: Required<EncryptedTrainingOptions> = {
  epochs: 5,
  lr: 1,
  l2: 0.05,
  nesterov: false,
  sigmoidInterval: 8,
  metrics: true,
};

/** How the model of an epoch does on its own training cohort, from aggregates only. */
export type TrainingMetrics = NonNullable<EpochReport['training']>;

export interface EncryptedTrainingResult {
  model: Model;
  stats: CohortStats;
  epochs: EpochReport[];
  /** Loading the cohort and the weight-independent precomputation, once per training. */
  prepareMs: number;
}

/*
 * Every decrypted gradient is a mean over the cohort of (p - y) x~ with |p - y| <= ~1.05 while the scores stay
 * in the polynomial's interval, so |g_j| <= ~1.05 (Cauchy-Schwarz). A larger value means the scores left the
 * interval (where the cubic diverges) or a total wrapped around the modulus: stop rather than step on it.
 */
const GRADIENT_BOUND = 2;

/**
 * The current model's log-loss, accuracy and AUC on its labeled training patients: an encrypted prediction of
 * every labeled block (the inference circuit, public keys only), then, under the decryption policy, the key
 * holder decrypts those predictions and the labels inside this function and keeps only the three aggregates.
 */
async function trainingMetrics(
  caller: Caller,
  holder: KeyHolder,
  ctx: CkksContext,
  keys: EvaluationKeys,
  blocks: readonly CohortBlock[],
  model: { mean: number[]; std: number[]; sigmoid: SigmoidPoly } & LogisticWeights,
  batchIds: readonly number[],
  epoch: number,
): Promise<TrainingMetrics> {
  // Polynomial, like the encrypted gradient: the metrics describe the function this training actually fits.
  const plan = { ...model, sigmoid: { interval: model.sigmoid.interval, coefficients: model.sigmoid.coefficients }, scaling: 'folded' as const, mode: 'polynomial' as const };
  using constants = new EncodedConstants();
  const predictions = blocks.map((b) => evaluateLogistic(ctx, keys, b.features, plan, constants).bytes);
  const request = { purpose: 'training-metrics', batchIds, epoch } as const;
  return decryptUnderPolicy(caller, holder, request, (decrypt, r) => {
    const labeledSlots = (mask: Float64Array) => [...mask.keys()].filter((slot) => mask[slot] !== 0).map((slot) => ({ slot, labeled: true }));
    const scored = blocks.map((b, i) => ({ ...b, slots: ctx.slotCount, prediction: predictions[i]!, patients: labeledSlots(b.labeled) }));
    const perBatch = decryptScores(decrypt, batchIds, scored, plan.mode);
    requireUnits(new Map([...perBatch].map(([id, s]) => [id, s.labels.length])), r.k, 'the training cohort');
    const labels = [...perBatch.values()].flatMap((s) => s.labels);
    const probs = [...perBatch.values()].flatMap((s) => s.labeled);
    const m = classificationMetrics(labels, probs);
    return { logLoss: roundTo(logLoss(labels, probs), 4), accuracy: roundTo(m.accuracy, 4), auc: Number.isNaN(m.auc) ? null : roundTo(m.auc, 4) };
  });
}

/**
 * Logistic regression trained on the pooled ciphertexts of several hospitals. The evaluator computes each
 * epoch's aggregated gradient on ciphertexts; the key holder decrypts those d + 1 cohort means (SEAL has no
 * bootstrapping: this refresh replaces it), over at least the policy's k patients, each refresh in the audit
 * log, and steps the weights in plaintext. With metrics on, the epoch's training-set metrics are computed too
 * (trainingMetrics: per-patient predictions and labels are decrypted inside it, only aggregates leave). The
 * scaler is the encrypted cohort statistics of the same batches.
 */
export async function trainEncrypted(
  caller: Caller,
  holder: KeyHolder,
  batchIds: readonly number[],
  options: EncryptedTrainingOptions,
  hooks: JobHooks & { onEpoch?: (e: EpochReport) => void } = {},
): Promise<EncryptedTrainingResult> {
  const { ws } = caller;
  // An option given as undefined (a form field left empty) keeps its default rather than erasing it.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as EncryptedTrainingOptions;
  const opts = { ...ENCRYPTED_TRAINING_DEFAULTS, ...given };
  if (!(Number.isInteger(opts.epochs) && opts.epochs >= 1)) throw new RangeError('epochs must be a positive integer');
  if (!(opts.lr > 0) || !(opts.l2 >= 0) || !(opts.sigmoidInterval > 0)) throw new RangeError('lr and the interval must be positive, l2 non-negative');
  const keySet = await withGaloisKeys(caller, holder);
  const ctx = await contextFor(keySet.preset);
  const stats = storedCohortStats(ws, batchIds) ?? (await computeCohortStats(caller, holder, batchIds, hooks));
  // Under differential privacy every epoch's metrics would be one more release to pay for: training reports none.
  const dp = releasePolicy(ws).dp !== null;
  const metrics = opts.metrics && !dp;

  const t0 = performance.now();
  const cohort = loadCohort(ws, batchIds, ctx.slotCount);
  const blocks = cohort.blocks.filter((b) => b.label !== null);
  if (stats.positives === null) {
    throw new Error(`encrypted training needs labels for at least ${minPatients(caller)} patients (the policy's k); the cohort has ${cohort.labeledPatients}`);
  }
  if (stats.positives === 0 || stats.positives === cohort.labeledPatients) {
    throw new Error(`encrypted training needs both classes (the cohort has ${stats.positives} at-risk of ${cohort.labeledPatients} labeled)`);
  }
  const byName = new Map(stats.features.map((f) => [f.name, f]));
  const mean = cohort.features.map((f) => byName.get(f.name)!.mean);
  const std = cohort.features.map((f) => byName.get(f.name)!.std);
  const sigmoid = fitSigmoidPoly(3, opts.sigmoidInterval);
  // One patient moves the gradient's sums by at most |p - y| |x~_j| per feature (|p - y| <= ~1.1 on the
  // polynomial's interval, |x~_j| <= the range's farthest end from the mean, in standard deviations) and by |p - y|
  // for the bias: the L1 sensitivity differential privacy calibrates each epoch's noise to.
  const sensitivity = dp
    ? 1.1 * (1 + featureRanges(cohort.features).reduce((sum, [lo, hi], j) => sum + Math.max(Math.abs(lo - mean[j]!), Math.abs(hi - mean[j]!)) / std[j]!, 0))
    : 0;
  using keys = new EvaluationKeys(ctx, keySet.relinKeys, keySet.galoisKeys);
  using circuit = new EncryptedGradient(
    ctx,
    keys,
    blocks.map((b) => ({ features: b.features, label: b.label!, mask: b.labeled })),
    { mean, std, sigmoid },
  );
  const prepareMs = performance.now() - t0;

  const descent = new KeyHolderDescent(mean.length, opts);
  const reports: EpochReport[] = [];
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    throwIfCancelled(hooks, 'encrypted training');
    const t1 = performance.now();
    const sums = circuit.evaluate(descent.point);
    const t2 = performance.now();
    // Each epoch's refresh is its own request to the policy, and so its own audit entry.
    const request = cohortRequest('aggregated-gradient', cohort.batchIds, epoch);
    const gradient = await decryptUnderPolicy(caller, holder, request, (decrypt, r) => {
      requireUnits(cohort.labeledPerBatch, r.k, 'the aggregated gradient');
      const g = circuit.gradientOf(sums.map((bytes) => decrypt(cohortTotal(bytes))[0]!));
      const noise = (): number => (r.dp ? r.dp.laplace(sensitivity, 1) / cohort.labeledPatients : 0);
      return { weights: g.weights.map((w) => releasedGradient(w + noise())), bias: releasedGradient(g.bias + noise()) };
    });
    const values = [...gradient.weights, gradient.bias];
    if (!values.every((g) => Math.abs(g) <= GRADIENT_BOUND)) {
      throw new Error(
        `epoch ${epoch}: the encrypted gradient is out of range (a component exceeds ${GRADIENT_BOUND}): the scores left the sigmoid ` +
          `polynomial's interval [-${opts.sigmoidInterval}, ${opts.sigmoidInterval}]; lower the learning rate or widen the interval`,
      );
    }
    descent.step(gradient);
    const t3 = performance.now();
    const training = metrics
      ? await trainingMetrics(caller, holder, ctx, keys, blocks, { mean, std, sigmoid, ...descent.weights }, cohort.batchIds, epoch)
      : null;
    const report: EpochReport = {
      epoch,
      epochs: opts.epochs,
      gradientNorm: Math.hypot(...values),
      evaluateMs: t2 - t1,
      refreshMs: t3 - t2,
      training,
      metricsMs: performance.now() - t3,
    };
    reports.push(report);
    hooks.onEpoch?.(report);
    hooks.onProgress?.({ phase: 'encrypted training (epochs)', done: epoch, total: opts.epochs, epoch: report });
    await breathe();
  }

  const { weights, bias } = descent.weights;
  const model = parseModel({
    format: 'homopai.model',
    version: 1,
    id: randomUUID(),
    createdAt: new Date().toISOString(),
    features: cohort.features,
    scaler: { mean, std },
    weights,
    bias,
    sigmoid,
    training: {
      method: opts.nesterov ? 'encrypted-gd-nesterov' : 'encrypted-gd',
      rows: cohort.labeledPatients,
      positives: stats.positives,
      l2: opts.l2,
      epochs: opts.epochs,
      lr: opts.lr,
      source: `encrypted cohort: ${cohort.hospitals.length} hospital(s), batches ${cohort.batchIds.join(',')}`,
      batchIds: [...cohort.batchIds],
    },
  });
  registerModel(caller, model);
  caller.audit('train', {
    modelId: model.id,
    method: model.training.method,
    rows: model.training.rows,
    features: model.features.length,
    batchIds: cohort.batchIds,
    epochs: opts.epochs,
  });
  return { model, stats, epochs: reports, prepareMs };
}
