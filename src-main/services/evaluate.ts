import { classificationMetrics, type Metrics, rocCurve } from '../ml/metrics.ts';
import { clampProbability } from '../ml/sigmoid-poly.ts';
import { blocksOf, LABEL_COLUMN } from '../store/ciphertexts.ts';
import { getRun, type PredictionRun } from '../store/predictions.ts';
import { runOutputs, taggedInput } from './provenance.ts';
import type { KeyHolder } from './key-sets.ts';
import type { Caller } from './caller.ts';
import { decryptUnderPolicy, requireCovered } from './policy.ts';
import type { Workspace } from '../store/workspace.ts';

export interface RunEvaluation {
  runId: number;
  labeled: number;
  metrics: Metrics;
  roc: { fpr: number; tpr: number; threshold: number }[];
  /** Counts of predicted probabilities in 10 bins of width 0.1. */
  histogram: number[];
}

/** A run of this key set, or an error naming why it cannot be decrypted. */
export function requireRun(ws: Workspace, holder: KeyHolder, runId: number): PredictionRun {
  const run = getRun(ws.db, runId);
  if (!run) throw new Error(`no prediction run ${runId} in this workspace`);
  if (run.keyFingerprint !== holder.fingerprint) {
    throw new Error(`prediction run ${runId} was made under another key set; unlock that key set to decrypt it`);
  }
  return run;
}

export function histogram(probabilities: ArrayLike<number>, bins = 10): number[] {
  const h = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) h[Math.min(bins - 1, Math.floor(probabilities[i]! * bins))]!++;
  return h;
}

/**
 * Metrics of a run against the encrypted labels of its batches. The labels are decrypted here, inside the
 * service, and only aggregates (metrics, ROC points, histogram) leave it: never a per-patient label. The
 * policy refuses a run with fewer than k labeled patients (PolicyOptions.minPatients).
 */
export async function runEvaluation(caller: Caller, holder: KeyHolder, runId: number): Promise<RunEvaluation> {
  const { ws } = caller;
  const run = requireRun(ws, holder, runId);
  const predictions = new Map(runOutputs(ws.db, ws.rowMac(), runId).map((b) => [`${b.batchId}/${b.block}`, b]));
  const { labels, probs, allProbs } = await decryptUnderPolicy(caller, holder, { purpose: 'aggregates', run }, (decrypt, k) => {
    const labels: number[] = [];
    const probs: number[] = [];
    const allProbs: number[] = [];
    for (const batchId of run.batchIds) {
      for (const b of blocksOf(ws.db, ws.rowMac(), batchId)) {
        const pred = predictions.get(`${batchId}/${b.block}`);
        if (!pred) throw new Error(`run ${runId} has no prediction for batch ${batchId}, block ${b.block}`);
        const p = decrypt(pred);
        const labelCt = b.columns.get(LABEL_COLUMN);
        // CKKS returns 0/1 labels with noise around 1e-7; rounding recovers them exactly.
        const y = labelCt ? decrypt(taggedInput(labelCt)) : null;
        for (const pt of b.patients) {
          const prob = clampProbability(p[pt.slot]!);
          allProbs.push(prob);
          if (y && pt.labeled) {
            labels.push(Math.round(y[pt.slot]!));
            probs.push(prob);
          }
        }
        y?.fill(0);
      }
    }
    requireCovered(labels.length, k, `run ${runId}`);
    return { labels, probs, allProbs };
  });
  return {
    runId,
    labeled: labels.length,
    metrics: classificationMetrics(labels, probs),
    roc: rocCurve(labels, probs),
    histogram: histogram(allProbs),
  };
}

/** The key holder evaluates a run: its metrics against the batches' encrypted labels, aggregates only. */
export async function evaluateRun(caller: Caller, holder: KeyHolder, runId: number): Promise<RunEvaluation> {
  const e = await runEvaluation(caller, holder, runId);
  caller.audit('evaluate', { runId, labeled: e.labeled });
  return e;
}
