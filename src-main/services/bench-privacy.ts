import { copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { slotSumSteps } from '../ckks/rotate.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { JobHooks } from '../common/jobs.ts';
import { type IngestOptions, readAll } from '../ingest/index.ts';
import { writeCohortCsv } from '../ingest/synthetic-cohort.ts';
import { labeledRows } from '../ml/fit.ts';
import { linear } from '../ml/logistic.ts';
import { classificationMetrics } from '../ml/metrics.ts';
import type { Model } from '../ml/model.ts';
import { transform } from '../ml/scaler.ts';
import { runEvaluation } from './evaluate.ts';
import { importCsv } from './import.ts';
import { predict } from './predict.ts';
import { tightenPolicy } from './release-policy.ts';
import { scratchWorkspace } from './scratch.ts';
import { computeCohortStats } from './stats.ts';
import { trainModel } from './train.ts';
import { trainEncrypted } from './train-encrypted.ts';

/*
 * What differential privacy costs in accuracy: the same releases made exactly and under a per-release epsilon,
 * repeated (each noisy release draws afresh), on real files and a synthetic cohort. Reported as the mean and
 * largest absolute difference from the exact figure.
 */

export interface PrivacyBenchOptions {
  /** A labeled CSV; a synthetic vitals cohort of `patients` when absent. */
  csv?: { path: string; ingest: IngestOptions };
  patients?: number;
  epsilon?: number;
  repeats?: number;
  /** Encrypted training too (needs a validated range for every feature: recognised vitals). */
  training?: boolean;
  epochs?: number;
}

export interface Deviation {
  mean: number;
  max: number;
}

export interface PrivacyBenchFigures {
  source: string;
  patients: number;
  epsilon: number;
  repeats: number;
  exact: { accuracy: number; auc: number | null; brier: number | null };
  /** Run metrics released under differential privacy, against the exact ones. */
  accuracy: Deviation;
  auc: Deviation;
  brier: Deviation;
  /** Cohort means, relative to the feature's range. */
  meanOfRange: Deviation | null;
  /** AUC on the training data of encrypted training's model, exact gradients and noisy ones (per epoch epsilon). */
  trainingAuc: { exact: number; dp: Deviation } | null;
}

function deviation(values: readonly number[]): Deviation {
  const abs = values.map(Math.abs);
  return { mean: abs.reduce((a, b) => a + b, 0) / Math.max(1, abs.length), max: Math.max(0, ...abs) };
}

/** A model's AUC on the (plaintext, synthetic or shared) training file, computed here in the benchmark only. */
async function aucOn(path: string, ingest: IngestOptions, model: Model): Promise<number> {
  const { data } = await readAll(path, ingest);
  const { x, y } = labeledRows(data.values, data.labels!);
  return classificationMetrics(y, linear(transform(model.scaler, x), model).map((z) => 1 / (1 + Math.exp(-z)))).auc;
}

export async function runPrivacyBench(opts: PrivacyBenchOptions, hooks: JobHooks = {}): Promise<PrivacyBenchFigures> {
  const epsilon = opts.epsilon ?? 1;
  const repeats = opts.repeats ?? 10;
  const epochs = opts.epochs ?? 5;
  const galois = opts.training ? slotSumSteps((await contextFor('standard')).slotCount) : [];
  using scratch = await scratchWorkspace('standard', 'homopai-bench-privacy-', hooks, galois);
  const { caller, holder } = scratch;
  // Shared files are copied first: skipped rows are reported beside the file imported.
  const csv = opts.csv
    ? { path: join(scratch.dir, basename(opts.csv.path)), ingest: { ...opts.csv.ingest, invalid: 'skip' as const } }
    : { path: join(scratch.dir, 'cohort.csv'), ingest: {} };
  if (opts.csv) copyFileSync(opts.csv.path, csv.path);
  else await writeCohortCsv(csv.path, { patients: opts.patients ?? 20_000, seed: 5 });
  const imported = await importCsv(caller, csv.path, csv.ingest, hooks, { holder });
  const model = await trainModel(caller, csv.path, csv.ingest);
  const { runId } = await predict(caller, { modelId: model.id, batchIds: [imported.batchId] }, hooks);

  const exact = await runEvaluation(caller, holder, runId);
  const exactStats = opts.training ? await computeCohortStats(caller, holder, [imported.batchId], hooks) : null;
  const exactTraining = opts.training ? await trainEncrypted(caller, holder, [imported.batchId], { epochs, metrics: false }, hooks) : null;

  // Budget for every release below: evaluations, statistics (two releases each), training epochs.
  const releases = repeats * (1 + (opts.training ? 2 + epochs : 0));
  await tightenPolicy(caller, { dp: { epsilon, budget: epsilon * releases } });
  const d = { accuracy: [] as number[], auc: [] as number[], brier: [] as number[], means: [] as number[], trainingAuc: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    hooks.onProgress?.({ phase: 'noisy releases', done: i, total: repeats });
    const noisy = await runEvaluation(caller, holder, runId);
    d.accuracy.push(noisy.metrics.accuracy - exact.metrics.accuracy);
    if (noisy.metrics.auc !== null && exact.metrics.auc !== null) d.auc.push(noisy.metrics.auc - exact.metrics.auc);
    if (noisy.metrics.brier !== null && exact.metrics.brier !== null) d.brier.push(noisy.metrics.brier - exact.metrics.brier);
    if (exactStats) {
      const stats = await computeCohortStats(caller, holder, [imported.batchId], hooks);
      stats.features.forEach((f, j) => {
        const range = imported.features[j]!.range!;
        d.means.push((f.mean - exactStats.features[j]!.mean) / (range[1] - range[0]));
      });
      const trained = await trainEncrypted(caller, holder, [imported.batchId], { epochs, metrics: false }, hooks);
      d.trainingAuc.push((await aucOn(csv.path, csv.ingest, trained.model)) - (await aucOn(csv.path, csv.ingest, exactTraining!.model)));
    }
  }
  return {
    source: opts.csv ? basename(opts.csv.path) : 'synthetic cohort',
    patients: imported.rows,
    epsilon,
    repeats,
    exact: { accuracy: exact.metrics.accuracy, auc: exact.metrics.auc, brier: exact.metrics.brier },
    accuracy: deviation(d.accuracy),
    auc: deviation(d.auc),
    brier: deviation(d.brier),
    meanOfRange: exactStats ? deviation(d.means) : null,
    trainingAuc: exactTraining ? { exact: await aucOn(csv.path, csv.ingest, exactTraining.model), dp: deviation(d.trainingAuc) } : null,
  };
}
