import { basename } from 'node:path';
import { readAll, type IngestOptions } from '../ingest/index.ts';
import { buildModel, labeledRows, type TrainOptions } from '../ml/fit.ts';
import type { Model } from '../ml/model.ts';
import { activeKeySet } from '../store/keysets.ts';
import type { JobHooks } from '../common/jobs.ts';
import type { Caller } from './caller.ts';
import { type Experiment, type ExperimentOptions, runExperiment } from './experiment.ts';
import { registerModel } from './models.ts';

export async function trainFromCsv(path: string, ingest: IngestOptions, opts: TrainOptions = {}): Promise<Model> {
  const { plan, data, summary } = await readAll(path, ingest);
  if (!data.labels) throw new Error(`${basename(path)}: no label column found; name it with --label COLUMN`);
  const { x, y } = labeledRows(data.values, data.labels);
  return buildModel(
    plan.features.map((f) => ({ name: f.name, unit: f.unit })),
    x,
    y,
    { ...opts, source: basename(path), sourceSha256: summary.sha256 },
  );
}

/** Trains on the key holder's labeled CSV (every labeled row) and registers the model in the workspace. */
export async function trainModel(caller: Caller, path: string, ingest: IngestOptions, opts: TrainOptions = {}): Promise<Model> {
  const model = await trainFromCsv(path, ingest, opts);
  registerModel(caller, model);
  caller.audit('train', { modelId: model.id, method: model.training.method, rows: model.training.rows, features: model.features.length });
  return model;
}

/**
 * Trains on a split of the key holder's labeled CSV, checks the model on the held-out rows encrypted under the
 * workspace's own parameters (so the check predicts what prediction will do), and registers it.
 */
export async function trainChecked(
  caller: Caller,
  path: string,
  opts: Omit<ExperimentOptions, 'preset' | 'scaling'>,
  hooks: JobHooks = {},
): Promise<Experiment> {
  const preset = activeKeySet(caller.ws.db)?.preset;
  const experiment = await runExperiment(path, { ...opts, preset }, hooks);
  const { model, report } = experiment;
  registerModel(caller, model);
  caller.audit('train', { modelId: model.id, method: model.training.method, rows: report.nTrain, features: model.features.length, testRows: report.nTest });
  return experiment;
}
