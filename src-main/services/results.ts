import { ColumnDecryptor } from '../ckks/decrypt.ts';
import { classificationMetrics, type Metrics, rocCurve } from '../ml/metrics.ts';
import { type PatientRow, patientsOfBatch } from '../store/batches.ts';
import { blocksOf } from '../store/ciphertexts.ts';
import { getRun, predictionBlocks, type PredictionRun } from '../store/predictions.ts';
import { contextFor } from './contexts.ts';
import { LABEL_COLUMN } from './import.ts';
import type { KeyHolder } from './keys.ts';
import type { Workspace } from './workspace.ts';

export interface PatientPrediction {
  batchId: number;
  hospital: string;
  patientId: string;
  probability: number;
  atRisk: boolean;
}

export interface RunEvaluation {
  runId: number;
  labeled: number;
  metrics: Metrics;
  roc: { fpr: number; tpr: number; threshold: number }[];
  /** Counts of predicted probabilities in 10 bins of width 0.1. */
  histogram: number[];
}

/** A batch's patients grouped by ciphertext block, in slot order. */
function patientsByBlock(ws: Workspace, batchId: number): Map<number, PatientRow[]> {
  const byBlock = new Map<number, PatientRow[]>();
  for (const p of patientsOfBatch(ws.db, batchId)) {
    const list = byBlock.get(p.block);
    if (list) list.push(p);
    else byBlock.set(p.block, [p]);
  }
  return byBlock;
}

function requireRun(ws: Workspace, holder: KeyHolder, runId: number): PredictionRun {
  const run = getRun(ws.db, runId);
  if (!run) throw new Error(`no prediction run ${runId} in this workspace`);
  if (run.keyFingerprint !== holder.fingerprint) {
    throw new Error(`prediction run ${runId} was made under another key set; unlock that key set to decrypt it`);
  }
  return run;
}

/*
 * The polynomial is only an approximation of the sigmoid: just outside its interval it can leave [0, 1].
 * A probability is clamped after decryption, by the key holder, where it costs nothing.
 */
function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** The key holder decrypts a run's encrypted prediction vectors: the only per-patient values ever shown. */
export async function decryptRun(ws: Workspace, holder: KeyHolder, runId: number): Promise<PatientPrediction[]> {
  const run = requireRun(ws, holder, runId);
  const ctx = await contextFor(ws.requireKeySet().preset);
  using dec = new ColumnDecryptor(ctx, holder.secretKey());
  const out: PatientPrediction[] = [];
  const patients = new Map(run.batchIds.map((id) => [id, patientsByBlock(ws, id)]));
  for (const b of predictionBlocks(ws.db, runId)) {
    const probs = dec.decrypt(b.bytes, b.slots);
    for (const p of patients.get(b.batchId)!.get(b.block) ?? []) {
      const probability = clamp01(probs[p.slot]!);
      out.push({ batchId: b.batchId, hospital: p.hospital, patientId: p.patientId, probability, atRisk: probability >= 0.5 });
    }
  }
  return out;
}

export function histogram(probabilities: ArrayLike<number>, bins = 10): number[] {
  const h = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) h[Math.min(bins - 1, Math.floor(probabilities[i]! * bins))]!++;
  return h;
}

/**
 * Metrics of a run against the encrypted labels of its batches. The labels are decrypted here, inside the
 * service, and only aggregates (metrics, ROC points, histogram) leave it: never a per-patient label.
 */
export async function evaluateRun(ws: Workspace, holder: KeyHolder, runId: number): Promise<RunEvaluation> {
  const run = requireRun(ws, holder, runId);
  const ctx = await contextFor(ws.requireKeySet().preset);
  using dec = new ColumnDecryptor(ctx, holder.secretKey());
  const labels: number[] = [];
  const probs: number[] = [];
  const allProbs: number[] = [];
  const predictions = new Map(predictionBlocks(ws.db, runId).map((b) => [`${b.batchId}/${b.block}`, b]));
  for (const batchId of run.batchIds) {
    const patients = patientsByBlock(ws, batchId);
    for (const b of blocksOf(ws.db, batchId)) {
      const pred = predictions.get(`${batchId}/${b.block}`);
      if (!pred) throw new Error(`run ${runId} has no prediction for batch ${batchId}, block ${b.block}`);
      const p = dec.decrypt(pred.bytes, b.slots);
      const labelCt = b.columns.get(LABEL_COLUMN);
      // CKKS returns 0/1 labels with noise around 1e-7; rounding recovers them exactly.
      const y = labelCt ? dec.decrypt(labelCt.bytes, b.slots) : null;
      for (const pt of patients.get(b.block) ?? []) {
        const prob = clamp01(p[pt.slot]!);
        allProbs.push(prob);
        if (y && pt.labeled) {
          labels.push(Math.round(y[pt.slot]!));
          probs.push(prob);
        }
      }
      y?.fill(0);
    }
  }
  if (labels.length === 0) throw new Error(`run ${runId} covers no labeled patients: nothing to evaluate against`);
  return {
    runId,
    labeled: labels.length,
    metrics: classificationMetrics(labels, probs),
    roc: rocCurve(labels, probs),
    histogram: histogram(allProbs),
  };
}
