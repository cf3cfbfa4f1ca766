import { MAX_STRING } from '../audit/log.ts';
import { missingFeatures } from '../../src-preload/compatibility.ts';
import { checkDepth, type EncryptedLrPlan, type Scaling, type SigmoidMode } from '../circuits/inference.ts';
import type { Model } from '../ml/model.ts';
import type { BatchRow } from '../store/batches.ts';
import { requireBatch } from './selection.ts';
import { blocksOf } from '../store/ciphertexts.ts';
import { createRun, insertPredictionBlock } from '../store/predictions.ts';
import { contextFor } from '../ckks/contexts.ts';
import { type CkksPool, OrderedWindow, sharedPool } from '../workers/pool.ts';
import { type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';
import { loadModel, requirePerPatientUse } from './models.ts';

export interface PredictResult {
  runId: number;
  modelId: string;
  patients: number;
  blocks: number;
  evalMs: number;
}

export function planOf(model: Model, scaling: Scaling, mode: SigmoidMode): EncryptedLrPlan {
  return {
    mode,
    weights: model.weights,
    bias: model.bias,
    mean: model.scaler.mean,
    std: model.scaler.std,
    sigmoid: { interval: model.sigmoid.interval, coefficients: model.sigmoid.coefficients },
    scaling,
  };
}

/** Refuses, before any SEAL call, a batch under another key set or without the model's features. */
function checkBatch(ws: Workspace, batchId: number, model: Model): BatchRow {
  const batch = requireBatch(ws, batchId);
  const missing = missingFeatures(model, batch);
  if (missing.length > 0) {
    throw new Error(`batch ${batchId} lacks the model's feature(s) ${missing.join(', ')} (it has ${batch.features.map((f) => f.name).join(', ')})`);
  }
  return batch;
}

/**
 * The evaluator: encrypted inference over stored batches on the evaluator worker pool, which holds the public
 * context and relinearization keys only.
 * The encrypted prediction vectors are stored as a run, in one transaction.
 */
export async function predict(
  caller: Caller,
  /** sigmoid: 'exact' (the default: the logit, and the logistic function after decryption) or 'polynomial'. */
  request: { modelId?: string; batchIds: readonly number[]; scaling?: Scaling; sigmoid?: SigmoidMode },
  hooks: JobHooks = {},
  evaluators?: CkksPool,
): Promise<PredictResult> {
  try {
    return await runPrediction(caller, request, hooks, evaluators);
  } catch (e) {
    // Recorded once the run's transaction has rolled back, so the entry stays. Messages name ids, features and
    // rules, never a value.
    const message = e instanceof Error ? e.message : String(e);
    const reason = message.length > MAX_STRING ? `${message.slice(0, MAX_STRING - 1)}…` : message;
    caller.audit('predict-failed', { modelId: request.modelId ?? null, batchIds: [...request.batchIds], reason });
    throw e;
  }
}

async function runPrediction(
  caller: Caller,
  request: { modelId?: string; batchIds: readonly number[]; scaling?: Scaling; sigmoid?: SigmoidMode },
  hooks: JobHooks,
  evaluators: CkksPool | undefined,
): Promise<PredictResult> {
  const { ws } = caller;
  const { batchIds, scaling = 'folded', sigmoid = 'exact' } = request;
  if (batchIds.length === 0) throw new Error('no batches to predict: import a CSV first');
  const model = loadModel(ws, request.modelId);
  const keySet = ws.requireKeySet();
  const batches = batchIds.map((id) => checkBatch(ws, id, model));
  requirePerPatientUse(caller, model, batchIds);
  const total = batches.reduce((s, b) => s + b.rows, 0);
  const ctx = await contextFor(keySet.preset);
  const plan = planOf(model, scaling, sigmoid);
  // Refused here, typed, before any block is sent to a worker.
  checkDepth(ctx, plan);
  const pool = evaluators ?? sharedPool('evaluator');
  const keys = { preset: keySet.preset, keyId: keySet.fingerprint, relinKeys: keySet.relinKeys };
  const mac = ws.rowMac();
  let done = 0;
  let blocks = 0;
  return ws.transaction(async () => {
    const runId = createRun(ws.db, mac, {
      modelId: model.id,
      modelSha256: model.sha256,
      keyFingerprint: keySet.fingerprint,
      scaling,
      sigmoid,
      batchIds: [...batchIds],
      patients: total,
      createdAt: new Date().toISOString(),
    });
    const window = new OrderedWindow<{ batchId: number; block: number; slots: number; patients: string; out: { bytes: Uint8Array; level: number } }>(
      pool.size * 2,
      (r) => {
        insertPredictionBlock(ws.db, mac, { runId, batchId: r.batchId, block: r.block, slots: r.slots, ...r.out }, r.patients);
        done += r.slots;
        blocks++;
        hooks.onProgress?.({ phase: 'predicting', done, total });
      },
    );
    const t0 = performance.now();
    const names = model.features.map((f) => f.name);
    for (const batch of batches) {
      for (const b of blocksOf(ws.db, mac, batch.id, names)) {
        throwIfCancelled(hooks, 'the prediction');
        const features = model.features.map((f) => b.columns.get(f.name)!.bytes);
        const meta = { batchId: batch.id, block: b.block, slots: b.slots, patients: b.patientsDigest };
        // The block's bytes, verified, are not needed here again: they move to the worker.
        await window.push(pool.evaluate(keys, features, plan, true).then((out) => ({ ...meta, out })));
      }
    }
    await window.drain();
    throwIfCancelled(hooks, 'the prediction');
    const evalMs = performance.now() - t0;
    caller.audit('predict', { runId, modelId: model.id, batchIds: [...batchIds], patients: total, scaling, sigmoid });
    return { runId, modelId: model.id, patients: total, blocks, evalMs };
  });
}
