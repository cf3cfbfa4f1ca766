import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { readAll, type IngestOptions } from '../ingest/index.ts';
import { linear, trainLogistic } from '../ml/logistic.ts';
import { type Model, parseModel } from '../ml/model.ts';
import { fitScaler, transform } from '../ml/scaler.ts';
import { chooseInterval, fitSigmoidPoly } from '../ml/sigmoid-poly.ts';
import { getModelJson, insertModel, latestModelId, listModelJson } from '../store/models.ts';
import type { Workspace } from '../store/workspace.ts';

export type SigmoidDegree = 1 | 3 | 5 | 7;

export interface TrainOptions {
  sigmoidDegree?: SigmoidDegree;
  l2?: number;
  source?: string;
}

/** Labeled rows only: a row whose label is unknown cannot teach the model anything. */
export function labeledRows(values: Float64Array[], labels: Float64Array): { x: Float64Array[]; y: Float64Array } {
  const keep: number[] = [];
  labels.forEach((v, i) => {
    if (!Number.isNaN(v)) keep.push(i);
  });
  return { x: values.map((c) => Float64Array.from(keep, (i) => c[i]!)), y: Float64Array.from(keep, (i) => labels[i]!) };
}

/**
 * Plaintext logistic regression on the key holder's own labeled data, with the sigmoid polynomial fitted on
 * the range of the training scores so encrypted inference stays inside the polynomial's interval.
 */
export function buildModel(features: { name: string; unit: string }[], x: Float64Array[], y: Float64Array, opts: TrainOptions = {}): Model {
  const positives = y.reduce((s, v) => s + v, 0);
  if (y.length < 2 || positives === 0 || positives === y.length) {
    throw new Error(`training needs labeled rows of both classes (got ${y.length} rows, ${positives} at-risk)`);
  }
  const scaler = fitScaler(x);
  const xs = transform(scaler, x);
  const fit = trainLogistic(xs, y, opts.l2 === undefined ? {} : { l2: opts.l2 });
  const interval = chooseInterval(linear(xs, fit));
  const sigmoid = fitSigmoidPoly(opts.sigmoidDegree ?? 3, interval);
  return parseModel({
    format: 'homopai.model',
    version: 1,
    id: randomUUID(),
    createdAt: new Date().toISOString(),
    features,
    scaler,
    weights: fit.weights,
    bias: fit.bias,
    sigmoid,
    training: {
      method: 'newton-l2',
      rows: y.length,
      positives,
      ...(opts.l2 === undefined ? {} : { l2: opts.l2 }),
      ...(opts.source ? { source: opts.source } : {}),
    },
  });
}

export async function trainFromCsv(path: string, ingest: IngestOptions, opts: TrainOptions = {}): Promise<Model> {
  const { plan, data } = await readAll(path, ingest);
  if (!data.labels) throw new Error(`${basename(path)}: no label column found; name it with --label COLUMN`);
  const { x, y } = labeledRows(data.values, data.labels);
  return buildModel(
    plan.features.map((f) => ({ name: f.name, unit: f.unit })),
    x,
    y,
    { ...opts, source: basename(path) },
  );
}

export function saveModel(ws: Workspace, model: Model): void {
  insertModel(ws.db, model.id, model.createdAt, JSON.stringify(model));
}

export function loadModel(ws: Workspace, id?: string): Model {
  const modelId = id ?? latestModelId(ws.db);
  if (!modelId) throw new Error('this workspace has no model yet: train one first (homopai train)');
  const json = getModelJson(ws.db, modelId);
  if (!json) throw new Error(`no model with id ${modelId} in this workspace`);
  return parseModel(JSON.parse(json));
}

export function listModels(ws: Workspace): Model[] {
  return listModelJson(ws.db).map((j) => parseModel(JSON.parse(j)));
}
