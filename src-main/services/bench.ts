import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCohortCsv } from '../ingest/cohort.ts';
import { readAll } from '../ingest/index.ts';
import { predictProba } from '../ml/logistic.ts';
import { transform } from '../ml/scaler.ts';
import type { Scaling } from '../ml/encrypted-lr.ts';
import { wasmHeapBytes } from '../ckks/seal.ts';
import { insertBenchRun, listBenchRuns } from '../store/bench.ts';
import { featureStorage } from '../store/ciphertexts.ts';
import { PassphraseVault } from '../vault/passphrase.ts';
import { importCsv } from './import.ts';
import { createKeySet, KeyHolder } from './keys.ts';
import { predictBatches } from './predict.ts';
import type { JobHooks } from './progress.ts';
import { decryptRun } from './results.ts';
import { buildModel, labeledRows, saveModel } from './train.ts';
import { Workspace } from './workspace.ts';

export interface BenchOptions {
  patients: number;
  preset?: string;
  scaling?: Scaling;
  seed?: number;
}

/** Field names are the CLI's --json keys (and the contract's BenchResult). */
export interface BenchFigures {
  preset: string;
  patients: number;
  workers: number;
  scaling: Scaling;
  keygen_ms: number;
  import_ms: number;
  encrypt_us_per_value: number;
  predict_patients_per_s: number;
  eval_patients_per_s: number;
  decrypt_ms: number;
  ciphertext_bytes: number;
  public_key_bytes: number;
  relin_key_bytes: number;
  bytes_per_patient: number;
  he_to_plain_ratio: number;
  wasm_heap_bytes_before: number;
  wasm_heap_bytes_after: number;
  peak_rss_bytes: number;
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

/**
 * One benchmark on a synthetic cohort, through the real path: the cohort CSV (synthetic, never patient data)
 * is parsed, validated, encrypted and stored in a throwaway workspace, then predicted on and decrypted.
 * "End to end" covers import (parse + encrypt + store), encrypted prediction and decryption.
 */
export async function runBench(opts: BenchOptions, hooks: JobHooks = {}): Promise<BenchFigures> {
  const preset = opts.preset ?? 'standard';
  const scaling = opts.scaling ?? 'folded';
  const dir = mkdtempSync(join(tmpdir(), 'homopai-bench-'));
  let peakRss = process.memoryUsage.rss();
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const progress = (p: Parameters<NonNullable<JobHooks['onProgress']>>[0]): void => {
    sample();
    hooks.onProgress?.(p);
  };
  try {
    const csv = join(dir, 'cohort.csv');
    await writeCohortCsv(csv, { patients: opts.patients, seed: opts.seed ?? 7 });
    const heapBefore = await wasmHeapBytes();
    using ws = Workspace.open(dir);
    const vault = new PassphraseVault(dir, randomBytes(24).toString('base64'));
    hooks.onProgress?.({ phase: 'generating keys', done: 0, total: null });
    const { info, keygenMs } = await createKeySet(ws, preset, vault);

    const t0 = performance.now();
    const imported = await importCsv(ws, csv, {}, { ...hooks, onProgress: progress });
    const importMs = performance.now() - t0;

    // The model is trained in plaintext on the same synthetic cohort: the bench measures inference cost.
    const { data } = await readAll(csv);
    const { x, y } = labeledRows(data.values, data.labels!);
    const model = buildModel(imported.features, x, y);
    saveModel(ws, model);
    const predicted = await predictBatches(ws, model, [imported.batchId], scaling, { ...hooks, onProgress: progress });
    const holder = await KeyHolder.unlock(ws, vault);
    const t1 = performance.now();
    await decryptRun(ws, holder, predicted.runId);
    const decryptMs = performance.now() - t1;
    holder.lock();

    // Plaintext twin of the evaluation (scaling, w.x + b, exact sigmoid) in the same process and run.
    const [, plainMs] = timed(() => predictProba(transform(model.scaler, x), model));
    const storage = featureStorage(ws.db);
    sample();
    const n = imported.rows;
    const values = n * imported.features.length;
    return {
      preset,
      patients: n,
      workers: 1,
      scaling,
      keygen_ms: keygenMs,
      import_ms: importMs,
      encrypt_us_per_value: (imported.encryptMs * 1000) / (values + (imported.labeledRows > 0 ? n : 0)),
      predict_patients_per_s: n / ((importMs + predicted.evalMs + decryptMs) / 1000),
      eval_patients_per_s: n / (predicted.evalMs / 1000),
      decrypt_ms: decryptMs,
      ciphertext_bytes: storage.one,
      public_key_bytes: info.publicKeyBytes,
      relin_key_bytes: info.relinKeyBytes,
      bytes_per_patient: storage.total / n,
      he_to_plain_ratio: predicted.evalMs / Math.max(plainMs, 1e-3),
      wasm_heap_bytes_before: heapBefore,
      wasm_heap_bytes_after: await wasmHeapBytes(),
      peak_rss_bytes: peakRss,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function saveBench(ws: Workspace, figures: BenchFigures): { id: number; createdAt: string } {
  const createdAt = new Date().toISOString();
  return { id: insertBenchRun(ws.db, createdAt, JSON.stringify(figures)), createdAt };
}

export function listBench(ws: Workspace): (BenchFigures & { id: number; createdAt: string })[] {
  return listBenchRuns(ws.db).map((r) => ({ ...(JSON.parse(r.json) as BenchFigures), id: r.id, createdAt: r.createdAt }));
}
