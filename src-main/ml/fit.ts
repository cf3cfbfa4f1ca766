import { randomUUID } from 'node:crypto';
import type { SigmoidDegree } from '../../src-preload/contract.ts';
import { linear, trainLogistic } from './logistic.ts';
import { type Model, parseModel } from './model.ts';
import { fitScaler, transform } from './scaler.ts';
import { chooseInterval, fitSigmoidPoly } from './sigmoid-poly.ts';


export interface TrainOptions {
  sigmoidDegree?: SigmoidDegree;
  l2?: number;
  source?: string;
  sourceSha256?: string;
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
      ...(opts.sourceSha256 ? { sourceSha256: opts.sourceSha256 } : {}),
    },
  });
}

