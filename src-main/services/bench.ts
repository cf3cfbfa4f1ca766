import { join } from 'node:path';
import { COHORT_HEADER, writeCohortCsv } from '../ingest/synthetic-cohort.ts';
import { readAll } from '../ingest/index.ts';
import { predictProba } from '../ml/logistic.ts';
import { transform } from '../ml/scaler.ts';
import type { EncryptionMode } from '../ckks/encrypt.ts';
import type { Scaling, SigmoidMode } from '../circuits/inference.ts';
import type { Model } from '../ml/model.ts';
import { CkksPool, type EncryptionKeyRef } from '../workers/pool.ts';
import { contextFor } from '../ckks/contexts.ts';
import { wasmHeapBytes } from '../ckks/seal.ts';
import { insertBenchRun, listBenchRuns } from '../store/bench.ts';
import { blocksOf, featureStorage, labelStorage } from '../store/ciphertexts.ts';
import { importCsv } from './import.ts';
import { planOf, predict } from './predict.ts';
import { scratchWorkspace } from './scratch.ts';
import type { Caller } from './caller.ts';
import type { JobHooks } from '../common/jobs.ts';
import { holdDecryptedRun } from './predictions.ts';
import { measureStageCosts, type StageLimits, stageLimits } from './bench-limits.ts';
import { labeledRows } from '../ml/fit.ts';
import { trainModel } from './train.ts';
import { Workspace } from '../store/workspace.ts';

export interface BenchOptions {
  patients: number;
  preset?: string;
  scaling?: Scaling;
  seed?: number;
  /** Worker threads for the run; the single-worker figures are always measured beside them. */
  workers?: number;
}

/** Field names are the CLI's --json keys (and the contract's BenchResult). */
export interface BenchFigures {
  preset: string;
  patients: number;
  workers: number;
  scaling: Scaling;
  encryption: EncryptionMode;
  keygenMs: number;
  importMs: number;
  /** Pure encryption throughput of full blocks on all workers (encode + encrypt + serialize). */
  encryptUsPerValue: number;
  encryptUsPerValue1Worker: number;
  /** End to end and evaluation in exact mode (the default prediction: the encrypted logit). */
  predictPatientsPerS: number;
  evalPatientsPerS: number;
  evalPatientsPerS1Worker: number;
  /** Evaluation in polynomial mode (the model's degree), on all workers: what keeping the probability encrypted costs. */
  evalPolyPatientsPerS: number;
  decryptMs: number;
  ciphertextBytes: number;
  publicKeyBytes: number;
  relinKeyBytes: number;
  /** Feature (vitals) ciphertext bytes at rest per patient; the encrypted label adds one more column. */
  bytesPerPatient: number;
  bytesPerPatientWithLabel: number;
  heToPlainRatio: number;
  wasmHeapBytesBefore: number;
  wasmHeapBytesAfter: number;
  peakRssBytes: number;
  /** Each stage's node-seal floor for this run beside its measured time (absent from runs saved before). */
  limits?: StageLimits;
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const TRAINING_COHORT = 20_000;
const THROUGHPUT_BLOCKS_PER_WORKER = 4;

/** Encryption throughput of full blocks through a pool: µs per value, wall time over all workers. */
async function encryptionThroughput(pool: CkksPool, ref: EncryptionKeyRef, slots: number, columns: number): Promise<number> {
  const blocks = THROUGHPUT_BLOCKS_PER_WORKER * pool.size;
  const block = (): Float64Array[] => Array.from({ length: columns }, (_, j) => Float64Array.from({ length: slots }, (_, i) => 36 + ((i + j) % 40) / 10));
  // Warm-up, one block per worker: SEAL compilation and key loading are not throughput.
  await Promise.all(Array.from({ length: pool.size }, () => pool.encrypt(ref, block())));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: blocks }, () => pool.encrypt(ref, block())));
  return ((performance.now() - t0) * 1000) / (blocks * columns * slots);
}

/** Evaluation throughput of one stored block repeated through a pool: patients per second. */
async function evaluationThroughput(pool: CkksPool, ws: Workspace, model: Model, batchId: number, scaling: Scaling, mode: SigmoidMode): Promise<number> {
  const keySet = ws.requireKeySet();
  const ref = { preset: keySet.preset, keyId: keySet.fingerprint, relinKeys: keySet.relinKeys };
  const first = blocksOf(ws.db, ws.rowMac(), batchId).next().value!;
  const features = model.features.map((f) => first.columns.get(f.name)!.bytes);
  const plan = planOf(model, scaling, mode);
  await Promise.all(Array.from({ length: pool.size }, () => pool.evaluate(ref, features, plan)));
  const runs = THROUGHPUT_BLOCKS_PER_WORKER * pool.size;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: runs }, () => pool.evaluate(ref, features, plan)));
  return (runs * first.slots) / ((performance.now() - t0) / 1000);
}

/**
 * One benchmark on a synthetic cohort, through the real path: the cohort CSV (synthetic, never patient data)
 * is parsed, validated, encrypted and stored in a throwaway workspace by the key holder (seeded symmetric
 * encryption), then predicted on and decrypted. "End to end" covers import (parse + encrypt + store),
 * encrypted prediction and decryption. The model is trained in plaintext on a separate cohort.
 */
export async function runBench(opts: BenchOptions, hooks: JobHooks = {}): Promise<BenchFigures> {
  const preset = opts.preset ?? 'standard';
  const scaling = opts.scaling ?? 'folded';
  const seed = opts.seed ?? 7;
  let peakRss = process.memoryUsage.rss();
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const progress = (p: Parameters<NonNullable<JobHooks['onProgress']>>[0]): void => {
    sample();
    hooks.onProgress?.(p);
  };
  const encryptors = new CkksPool('encryptor', opts.workers);
  const evaluators = new CkksPool('evaluator', opts.workers);
  const single = { encryptor: new CkksPool('encryptor', 1), evaluator: new CkksPool('evaluator', 1) };
  try {
    const heapBefore = await wasmHeapBytes();
    using scratch = await scratchWorkspace(preset, 'homopai-bench-', hooks);
    const { ws, caller, holder, keygenMs, keySet: info } = scratch;
    const csv = join(scratch.dir, 'cohort.csv');
    const trainCsv = join(scratch.dir, 'training.csv');
    await writeCohortCsv(csv, { patients: opts.patients, seed });
    await writeCohortCsv(trainCsv, { patients: TRAINING_COHORT, seed: seed + 1 });

    const ctx = await contextFor(preset);
    const key: EncryptionKeyRef = {
      preset,
      keyId: `${holder.fingerprint}:bench`,
      key: { mode: 'seeded-symmetric', publicKey: ws.requireKeySet().publicKey, secretKey: holder.secretKey() },
    };
    // The cohort's columns after hospital and patient id (its vitals and the label): a ciphertext each per block.
    const columnsPerBlock = COHORT_HEADER.split(',').length - 2;
    // The worker threads are warmed first (SEAL compiled and tiered up), by the same work their throughput is
    // measured on afterwards: the app keeps its pools for its lifetime, so a first run's compilation is not what a
    // user waits for on each import or prediction.
    await encryptionThroughput(encryptors, key, ctx.slotCount, columnsPerBlock);
    const t0 = performance.now();
    const imported = await importCsv(caller, csv, {}, { ...hooks, onProgress: progress }, { holder, pool: encryptors });
    const importMs = performance.now() - t0;

    const model = await trainModel(caller, trainCsv, {});
    await evaluationThroughput(evaluators, ws, model, imported.batchId, scaling, 'exact');
    const predicted = await predict(caller, { modelId: model.id, batchIds: [imported.batchId], scaling }, { ...hooks, onProgress: progress }, evaluators);
    // Decryption as the app's key holder does it: every vector decrypted and attributed into the held run (the
    // CLI then formats rows from it, which is output, not decryption).
    const t1 = performance.now();
    (await holdDecryptedRun(caller, holder, predicted.runId)).destroy();
    const decryptMs = performance.now() - t1;
    sample();

    hooks.onProgress?.({ phase: 'measuring throughput', done: 0, total: null });
    const encryptAll = await encryptionThroughput(encryptors, key, ctx.slotCount, columnsPerBlock);
    const encryptOne = await encryptionThroughput(single.encryptor, key, ctx.slotCount, columnsPerBlock);
    const evalAll = await evaluationThroughput(evaluators, ws, model, imported.batchId, scaling, 'exact');
    const evalOne = await evaluationThroughput(single.evaluator, ws, model, imported.batchId, scaling, 'exact');
    const evalPoly = await evaluationThroughput(evaluators, ws, model, imported.batchId, scaling, 'polynomial');
    // The pipeline's heap, read before the bare-cost measurement below runs SEAL in this thread too.
    const heapAfter = await wasmHeapBytes();
    const keySet = ws.requireKeySet();
    const costs = measureStageCosts(ctx, { publicKey: keySet.publicKey, secretKey: holder.secretKey(), relinKeys: keySet.relinKeys }, planOf(model, scaling, 'exact'));
    const limits = stageLimits(
      costs,
      { blocks: predicted.blocks, columns: imported.features.length + (imported.labeledRows > 0 ? 1 : 0), features: model.features.length, workers: evaluators.size },
      { importMs, predictMs: predicted.evalMs, decryptMs },
    );

    // Plaintext twin of the evaluation (scaling, w.x + b, exact sigmoid) in the same process and run, on the
    // training cohort, per patient.
    const { data } = await readAll(trainCsv);
    const { x } = labeledRows(data.values, data.labels!);
    const [, plainMs] = timed(() => predictProba(transform(model.scaler, x), model));
    const storage = featureStorage(ws.db);
    const labelBytes = labelStorage(ws.db);
    sample();
    const n = imported.rows;
    return {
      preset,
      patients: n,
      workers: encryptors.size,
      scaling,
      encryption: imported.encryption,
      keygenMs: keygenMs,
      importMs: importMs,
      encryptUsPerValue: encryptAll,
      encryptUsPerValue1Worker: encryptOne,
      predictPatientsPerS: n / ((importMs + predicted.evalMs + decryptMs) / 1000),
      evalPatientsPerS: evalAll,
      evalPatientsPerS1Worker: evalOne,
      evalPolyPatientsPerS: evalPoly,
      decryptMs: decryptMs,
      ciphertextBytes: storage.one,
      publicKeyBytes: info.publicKeyBytes,
      relinKeyBytes: info.relinKeyBytes,
      bytesPerPatient: storage.total / n,
      bytesPerPatientWithLabel: (storage.total + labelBytes) / n,
      heToPlainRatio: (predicted.evalMs / n) / Math.max(plainMs / x[0]!.length, 1e-9),
      wasmHeapBytesBefore: heapBefore,
      wasmHeapBytesAfter: heapAfter,
      peakRssBytes: peakRss,
      limits,
    };
  } finally {
    await Promise.all([encryptors.close(), evaluators.close(), single.encryptor.close(), single.evaluator.close()]);
  }
}

/** Keeps benchmark figures in the workspace's history (no patient data: synthetic cohorts) and records it. */
export function saveBench(caller: Caller, figures: readonly BenchFigures[]): { id: number; createdAt: string }[] {
  const createdAt = new Date().toISOString();
  const saved = figures.map((f) => ({ id: insertBenchRun(caller.ws.db, createdAt, JSON.stringify(f)), createdAt }));
  caller.audit('bench', { benchIds: saved.map((s) => s.id), patients: figures.map((f) => f.patients), preset: figures[0]?.preset ?? '' });
  return saved;
}

/** Runs saved before the figures were named in camelCase (keygen_ms ...) read under today's names. */
function camelKeys(figures: Record<string, unknown>): BenchFigures {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v])) as unknown as BenchFigures;
}

export function listBench(ws: Workspace): (BenchFigures & { id: number; createdAt: string })[] {
  return listBenchRuns(ws.db).map((r) => ({ ...camelKeys(JSON.parse(r.json) as Record<string, unknown>), id: r.id, createdAt: r.createdAt }));
}
