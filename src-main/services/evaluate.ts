import type { Evaluation } from '../../src-preload/contract.ts';
import { batchEdges, binnedRoc, binsOf, commonEdges, fixedEdges, GRID, tally, trapezoidAuc } from '../ml/binning.ts';
import { brierScore, type Confusion, confusion, metricsFrom, rocAuc } from '../ml/metrics.ts';
import { blocksOf, LABEL_COLUMN } from '../store/ciphertexts.ts';
import { getRun, type PredictionRun } from '../store/predictions.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';
import type { KeyHolder } from './key-sets.ts';
import { loadModel } from './models.ts';
import { type Decrypt, decryptUnderPolicy, type Release, requireUnits } from './policy.ts';
import { releasedPrediction, releasedProbability, roundTo } from './precision.ts';
import { runOutputs } from './provenance.ts';
import { requireBatch } from './selection.ts';
import type { SigmoidMode } from '../circuits/inference.ts';

export type RunEvaluation = Evaluation;

/** With differential privacy on, bins are fixed (their edges must not depend on the data) and this many. */
const DP_BINS = 10;
/** Rates and scores released to four decimals (precision.ts). */
const DECIMALS = 4;

/** A run of this key set, verified, or an error naming why it cannot be decrypted. */
export function requireRun(ws: Workspace, holder: KeyHolder, runId: number): PredictionRun {
  const run = getRun(ws.db, ws.rowMac(), runId);
  if (!run) throw new Error(`no prediction run ${runId} in this workspace`);
  if (run.keyFingerprint !== holder.fingerprint) {
    throw new Error(`prediction run ${runId} was made under another key set; unlock that key set to decrypt it`);
  }
  return run;
}

/** One batch's decrypted scores, every patient's and the labeled ones' with their labels; never leaves a service. */
export interface BatchScores {
  all: number[];
  labeled: number[];
  labels: number[];
}

/** A block's encrypted prediction vector and label vector, and the slots of its patients. */
export interface ScoredBlock {
  batchId: number;
  block: number;
  slots: number;
  prediction: Uint8Array;
  label: Uint8Array | null;
  patients: Iterable<{ slot: number; labeled: boolean }>;
}

/**
 * Decrypts predictions and labels block by block, inside the service that releases aggregates of them: scores at
 * their released precision, labels rounded (CKKS returns 0/1 with noise around 1e-7; rounding recovers them
 * exactly). Every decrypted vector is zeroed once read.
 */
export function decryptScores(decrypt: Decrypt, batchIds: readonly number[], blocks: Iterable<ScoredBlock>, mode: SigmoidMode): Map<number, BatchScores> {
  const perBatch = new Map(batchIds.map((id) => [id, { all: [] as number[], labeled: [] as number[], labels: [] as number[] }]));
  for (const b of blocks) {
    const where = { batchId: b.batchId, block: b.block, slots: b.slots };
    const p = decrypt({ provenance: 'evaluator-output', kind: 'prediction', ...where, bytes: b.prediction });
    const y = b.label ? decrypt({ provenance: 'input', kind: 'label', ...where, bytes: b.label }) : null;
    const scores = perBatch.get(b.batchId)!;
    for (const pt of b.patients) {
      const prob = releasedPrediction(p[pt.slot]!, mode);
      scores.all.push(prob);
      if (y && pt.labeled) {
        scores.labels.push(Math.round(y[pt.slot]!));
        scores.labeled.push(prob);
      }
    }
    y?.fill(0);
    p.fill(0);
  }
  return perBatch;
}

/** A count released under differential privacy: noised, then rounded and kept non-negative (post-processing). */
function noisyCount(n: number, release: Release, share: number): number {
  return release.dp ? Math.max(0, Math.round(n + release.dp.laplace(1, share))) : n;
}

/**
 * What is released of a run's decrypted scores and labels. Without differential privacy: exact counts in bins
 * of at least k patients of each batch (labeled bins holding both classes, so a bin's counts never state the
 * labels of the patients whose scores fall in it), exact AUC and Brier score (aggregates over at least k). With it: five
 * parts of the release's epsilon (confusion matrix, labeled bins, all-patient bins, calibration sums, Brier sum),
 * each a histogram or sum a patient changes by at most 1, with fixed bins; AUC from the noisy curve.
 */
function release(perBatch: ReadonlyMap<number, BatchScores>, r: Release): Omit<RunEvaluation, 'runId' | 'trainedOn'> {
  const batches = [...perBatch.values()];
  const labeled = batches.flatMap((b) => b.labeled);
  const labels = batches.flatMap((b) => b.labels);
  const all = batches.flatMap((b) => b.all);
  const share = 1 / 5;
  const edgesOf = (pick: (b: BatchScores) => number[], withLabels: boolean) =>
    r.dp
      ? fixedEdges(DP_BINS)
      : commonEdges(batches.filter((b) => pick(b).length > 0).map((b) => batchEdges(pick(b), r.k, withLabels ? b.labels : undefined)));

  const exact: Confusion = confusion(labels, labeled.map((p) => (p >= 0.5 ? 1 : 0)));
  const c: Confusion = { tp: noisyCount(exact.tp, r, share), fp: noisyCount(exact.fp, r, share), tn: noisyCount(exact.tn, r, share), fn: noisyCount(exact.fn, r, share) };

  const labeledEdges = edgesOf((b) => b.labeled, true);
  const classBins = tally(labeledEdges, labeled, labels).map((t, i) => {
    // A patient adds one to either count: one share covers the pair; their sum is post-processing.
    const positives = noisyCount(t.positives, r, share);
    const negatives = noisyCount(t.patients - t.positives, r, share);
    const n = positives + negatives;
    const scoreSum = r.dp ? Math.min(n, Math.max(0, t.scoreSum + r.dp.laplace(1, share))) : t.scoreSum;
    return { bin: binsOf(labeledEdges)[i]!, positives, negatives, n, scoreSum };
  });
  const roc = binnedRoc(labeledEdges, classBins).map((p) => ({
    fpr: Number.isNaN(p.fpr) ? null : roundTo(p.fpr, DECIMALS),
    tpr: Number.isNaN(p.tpr) ? null : roundTo(p.tpr, DECIMALS),
    threshold: p.threshold,
  }));
  const bothClasses = labels.includes(0) && labels.includes(1);
  const auc = !bothClasses ? NaN : r.dp ? trapezoidAuc(binnedRoc(labeledEdges, classBins)) : rocAuc(labels, labeled);
  const brier = r.dp
    ? Math.min(1, Math.max(0, (brierScore(labels, labeled) * labels.length + r.dp.laplace(1, share)) / Math.max(1, labels.length)))
    : brierScore(labels, labeled);
  const metrics = metricsFrom(c, auc, brier);

  const allEdges = edgesOf((b) => b.all, false);
  const histogram = tally(allEdges, all).map((t, i) => ({ ...edgeValues(binsOf(allEdges)[i]!), patients: noisyCount(t.patients, r, share) }));

  return {
    labeled: labels.length,
    metrics: {
      ...metrics,
      accuracy: roundTo(metrics.accuracy, DECIMALS),
      precision: roundTo(metrics.precision, DECIMALS),
      recall: roundTo(metrics.recall, DECIMALS),
      f1: roundTo(metrics.f1, DECIMALS),
      auc: Number.isNaN(metrics.auc) ? null : roundTo(metrics.auc, DECIMALS),
      brier: Number.isNaN(metrics.brier) ? null : roundTo(metrics.brier, DECIMALS),
    },
    roc,
    histogram,
    byClass: classBins.map((b) => ({ ...edgeValues(b.bin), positives: b.positives, negatives: b.negatives })),
    calibration: classBins
      .filter((b) => b.n > 0)
      .map((b) => ({
        ...edgeValues(b.bin),
        patients: b.n,
        predicted: releasedProbability(b.scoreSum / b.n),
        observed: roundTo(Math.min(1, b.positives / b.n), DECIMALS),
      })),
    release: { minPatients: r.k, epsilon: r.dp?.epsilon ?? null },
  };
}

function edgeValues(b: { lo: number; hi: number }): { lo: number; hi: number } {
  return { lo: b.lo / GRID, hi: b.hi / GRID };
}

/**
 * Metrics and curves of a run against the encrypted labels of its batches. Predictions and labels are decrypted
 * here, inside the service, and only the release above leaves it: never a per-patient score or label. The
 * policy refuses a run any of whose batches holds fewer than k (labeled) patients; the counts are checked again
 * on the verified blocks actually decrypted.
 */
export async function runEvaluation(caller: Caller, holder: KeyHolder, runId: number): Promise<RunEvaluation> {
  const { ws } = caller;
  const run = requireRun(ws, holder, runId);
  const predictions = new Map(runOutputs(ws.db, ws.rowMac(), runId).map((b) => [`${b.batchId}/${b.block}`, b]));
  const released = await decryptUnderPolicy(caller, holder, { purpose: 'aggregates', run }, (decrypt, r) => {
    function* blocks(): Generator<ScoredBlock> {
      for (const batchId of run.batchIds) {
        for (const b of blocksOf(ws.db, ws.rowMac(), batchId, [LABEL_COLUMN])) {
          const pred = predictions.get(`${batchId}/${b.block}`);
          if (!pred) throw new Error(`run ${runId} has no prediction for batch ${batchId}, block ${b.block}`);
          const label = b.columns.get(LABEL_COLUMN);
          yield { batchId, block: b.block, slots: pred.slots, prediction: pred.bytes, label: label?.bytes ?? null, patients: b.patients };
        }
      }
    }
    const perBatch = decryptScores(decrypt, run.batchIds, blocks(), run.sigmoid);
    const counts = (pick: (s: BatchScores) => number[]) => new Map([...perBatch].map(([id, s]) => [id, pick(s).length]));
    requireUnits(counts((s) => s.labels), r.k, `run ${runId}`);
    requireUnits(counts((s) => s.all), r.k, `run ${runId}`, 'patient');
    return release(perBatch, r);
  });
  return { runId, ...released, trainedOn: trainedOn(ws, run) };
}

/**
 * The run's batches its model was trained on: the same CSV (by SHA-256) or a batch pooled in its encrypted
 * training. Figures on them measure fit, not performance on new patients, and the screen and report say so.
 */
function trainedOn(ws: Workspace, run: PredictionRun): number[] {
  const { training } = loadModel(ws, run.modelId);
  return run.batchIds.filter((id) => training.batchIds?.includes(id) || (training.sourceSha256 !== undefined && requireBatch(ws, id).sourceSha256 === training.sourceSha256));
}

/** The key holder evaluates a run: its metrics against the batches' encrypted labels, aggregates only. */
export async function evaluateRun(caller: Caller, holder: KeyHolder, runId: number): Promise<RunEvaluation> {
  const e = await runEvaluation(caller, holder, runId);
  caller.audit('evaluate', { runId, labeled: e.labeled });
  return e;
}
