import { basename, join } from 'node:path';
import { slotSumSteps } from '../ckks/rotate.ts';
import { writeCohortCsv } from '../ingest/synthetic-cohort.ts';
import type { IngestOptions } from '../ingest/index.ts';
import { contextFor } from '../ckks/contexts.ts';
import { trainEncrypted } from './train-encrypted.ts';
import { importCsv } from './import.ts';
import { scratchWorkspace } from './scratch.ts';
import type { JobHooks } from '../common/jobs.ts';
import { computeCohortStats } from './stats.ts';

export interface TrainingBenchOptions {
  /** A labeled CSV to train on; a synthetic cohort of `patients` when absent. */
  csv?: { path: string; ingest: IngestOptions };
  patients?: number;
  epochs?: number;
  preset?: string;
  seed?: number;
}

/** Field names are the --json keys of the training benchmark. */
export interface TrainingBenchFigures {
  source: string;
  preset: string;
  patients: number;
  features: number;
  blocks: number;
  epochs: number;
  /** Encrypted cohort statistics (means, then deviations): the scaler of the training. */
  statsMs: number;
  /** Loading the cohort's ciphertexts and the weight-independent part of the circuit, once. */
  prepareMs: number;
  epochMsMean: number;
  epochMsMax: number;
  /** Of an epoch: the evaluator's encrypted gradient, and the key holder's decryption and update. */
  evaluateMsMean: number;
  refreshMsMean: number;
  /** The optional per-epoch metrics pass (encrypted prediction of the cohort, aggregate decryption). */
  metricsMsMean: number;
  /** Training-set accuracy after the last epoch. */
  accuracy: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Encrypted logistic-regression training through the real path, in a throwaway workspace: the key holder
 * imports the cohort, the statistics and each epoch's gradient are computed on ciphertexts, and only cohort
 * totals are decrypted (through the decryption policy). Epoch time is what the 1 s target is about.
 */
export async function runTrainingBench(opts: TrainingBenchOptions, hooks: JobHooks = {}): Promise<TrainingBenchFigures> {
  const preset = opts.preset ?? 'standard';
  const epochs = opts.epochs ?? 3;
  // The rotations slot sums need, made with the key set rather than derived later by the key holder.
  using scratch = await scratchWorkspace(preset, 'homopai-bench-training-', hooks, slotSumSteps((await contextFor(preset)).slotCount));
  const { caller, holder } = scratch;
  let csv = opts.csv?.path;
  if (!csv) {
    csv = join(scratch.dir, 'cohort.csv');
    await writeCohortCsv(csv, { patients: opts.patients ?? 1000, seed: opts.seed ?? 11 });
  }
  const imported = await importCsv(caller, csv, opts.csv?.ingest ?? {}, hooks, { holder });
  const t0 = performance.now();
  await computeCohortStats(caller, holder, [imported.batchId], hooks);
  const statsMs = performance.now() - t0;
  const r = await trainEncrypted(caller, holder, [imported.batchId], { epochs, metrics: true }, hooks);
  const total = r.epochs.map((e) => e.evaluateMs + e.refreshMs);
  return {
    source: opts.csv ? basename(opts.csv.path) : 'synthetic cohort',
    preset,
    patients: imported.rows,
    features: imported.features.length,
    blocks: imported.blocks,
    epochs,
    statsMs: statsMs,
    prepareMs: r.prepareMs,
    epochMsMean: mean(total),
    epochMsMax: Math.max(...total),
    evaluateMsMean: mean(r.epochs.map((e) => e.evaluateMs)),
    refreshMsMean: mean(r.epochs.map((e) => e.refreshMs)),
    metricsMsMean: mean(r.epochs.map((e) => e.metricsMs)),
    accuracy: r.epochs.at(-1)!.training!.accuracy,
  };
}
