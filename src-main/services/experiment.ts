import { basename } from 'node:path';
import { presetByName } from '../ckks/presets.ts';
import { readAll, type IngestOptions, type RecordChunk, storedFeature } from '../ingest/index.ts';
import type { Scaling, SigmoidMode } from '../circuits/inference.ts';
import { linear, predictProba } from '../ml/logistic.ts';
import { classificationMetrics, type Metrics } from '../ml/metrics.ts';
import type { Model } from '../ml/model.ts';
import { transform } from '../ml/scaler.ts';
import { evalPoly } from '../ml/sigmoid-poly.ts';
import { stratifiedSplit } from '../ml/split.ts';
import { importRecords } from './import.ts';
import { predict } from './predict.ts';
import { scratchWorkspace } from './scratch.ts';
import type { JobHooks } from '../common/jobs.ts';
import { decryptRun } from './predictions.ts';
import type { SigmoidDegree } from '../../src-preload/contract.ts';
import { buildModel } from '../ml/fit.ts';
import { registerModel } from './models.ts';

export interface ExperimentOptions {
  ingest?: IngestOptions;
  /** 0 evaluates in-sample on every row (for cohorts too small to split, like the 19-patient pilot). */
  testFraction?: number;
  seed?: number;
  preset?: string;
  sigmoidDegree?: SigmoidDegree;
  scaling?: Scaling;
  /** exact (default): the logit on ciphertexts, the logistic function after decryption; polynomial: the approximation. */
  sigmoid?: SigmoidMode;
}

export interface ExperimentReport {
  file: string;
  nTrain: number;
  nTest: number;
  inSample: boolean;
  features: string[];
  metrics: Metrics;
  plaintextMetrics: Metrics;
  /**
   * The decrypted probabilities against the plaintext model with the exact logistic function, on the same rows
   * (max |Δp|, and the share of patients on the same side of 0.5); in polynomial mode also against the same
   * polynomial in plaintext, which isolates the CKKS error from the approximation's.
   */
  fidelity: { sigmoid: SigmoidMode; maxAbsProbError: number; labelAgreement: number; againstPolynomial?: { maxAbsProbError: number } };
  timingsMs: { keygen: number; encrypt: number; predict: number; decrypt: number };
  params: {
    preset: string;
    polyModulusDegree: number;
    coeffModulusBits: number[];
    securityBits: number;
    sigmoidDegree: number;
    sigmoidInterval: number;
    sigmoidMaxError: number;
    scaling: Scaling;
    sigmoid: SigmoidMode;
  };
  notes: string[];
}

function take(columns: Float64Array[], idx: Uint32Array): Float64Array[] {
  return columns.map((c) => Float64Array.from(idx, (i) => c[i]!));
}

export interface Experiment {
  report: ExperimentReport;
  /** The model trained on the training split, ready to be saved into a workspace. */
  model: Model;
}

/**
 * The whole pipeline on one labeled file, in a throwaway workspace (real SQLite file, real passphrase vault,
 * real CKKS): split, train in plaintext, encrypt the test split, predict on ciphertexts, decrypt, evaluate,
 * and compare with the plaintext model on the same rows.
 */
export async function runExperiment(file: string, opts: ExperimentOptions = {}, hooks: JobHooks = {}): Promise<Experiment> {
  const preset = presetByName(opts.preset ?? 'standard');
  const scaling = opts.scaling ?? 'folded';
  const sigmoid = opts.sigmoid ?? 'exact';
  const testFraction = opts.testFraction ?? 0.3;
  const { plan, data, summary } = await readAll(file, opts.ingest ?? {});
  if (!data.labels) throw new Error(`${basename(file)}: no label column found; name it with --label COLUMN`);
  const labeled = Uint32Array.from(data.labels.keys()).filter((i) => !Number.isNaN(data.labels![i]!));
  const y = Float64Array.from(labeled, (i) => data.labels![i]!);
  const x = take(data.values, labeled);
  const inSample = testFraction === 0;
  const split = inSample
    ? { train: Uint32Array.from(y.keys()), test: Uint32Array.from(y.keys()) }
    : stratifiedSplit(y, testFraction, opts.seed ?? 42);
  const features = plan.features.map(storedFeature);
  const model = buildModel(features, take(x, split.train), Float64Array.from(split.train, (i) => y[i]!), {
    sigmoidDegree: opts.sigmoidDegree ?? 3,
    source: basename(file),
    sourceSha256: summary.sha256,
  });
  const xTest = take(x, split.test);
  const yTest = Float64Array.from(split.test, (i) => y[i]!);

  using scratch = await scratchWorkspace(preset.name, 'homopai-run-', hooks);
  const { caller, holder, keygenMs } = scratch;
  const rows = split.test.length;
  const chunk: RecordChunk = {
    rowNumbers: Uint32Array.from(split.test, (i) => labeled[i]! + 2),
    hospitalIds: Array.from(split.test, (i) => data.hospitalIds[labeled[i]!]!),
    patientIds: Array.from(split.test, (i) => data.patientIds[labeled[i]!]!),
    values: xTest,
    labels: yTest,
  };
  async function* one(): AsyncGenerator<RecordChunk, { dropped: number; sha256: string }> {
    yield chunk;
    return { dropped: 0, sha256: '' };
  }
  // The key holder runs the whole experiment, so the test split is encrypted seeded-symmetric.
  const imported = await importRecords(
    caller,
    { name: `${basename(file)} (test split)`, features, labeled: true, notes: plan.notes, chunks: one() },
    hooks,
    { holder },
  );
  registerModel(caller, model);
  const predicted = await predict(caller, { modelId: model.id, batchIds: [imported.batchId], scaling, sigmoid }, hooks);
  const t0 = performance.now();
  const decrypted = await decryptRun(caller, holder, predicted.runId);
  const decryptMs = performance.now() - t0;

  const pEnc = Float64Array.from(decrypted, (d) => d.probability);
  const xsTest = transform(model.scaler, xTest);
  const z = linear(xsTest, model);
  const pExact = predictProba(xsTest, model);
  let maxErr = 0;
  let maxPolyErr = 0;
  let agree = 0;
  for (let i = 0; i < rows; i++) {
    maxErr = Math.max(maxErr, Math.abs(pEnc[i]! - pExact[i]!));
    maxPolyErr = Math.max(maxPolyErr, Math.abs(pEnc[i]! - Math.min(1, Math.max(0, evalPoly(model.sigmoid, z[i]!)))));
    if (pEnc[i]! >= 0.5 === pExact[i]! >= 0.5) agree++;
  }
  const fidelity = {
    sigmoid,
    maxAbsProbError: maxErr,
    labelAgreement: agree / rows,
    ...(sigmoid === 'polynomial' ? { againstPolynomial: { maxAbsProbError: maxPolyErr } } : {}),
  };
  const report: ExperimentReport = {
    file: basename(file),
    nTrain: split.train.length,
    nTest: rows,
    inSample: inSample,
    features: features.map((f) => f.name),
    metrics: classificationMetrics(yTest, pEnc),
    plaintextMetrics: classificationMetrics(yTest, pExact),
    fidelity,
    timingsMs: { keygen: keygenMs, encrypt: imported.encryptMs, predict: predicted.evalMs, decrypt: decryptMs },
    params: {
      preset: preset.name,
      polyModulusDegree: preset.polyModulusDegree,
      coeffModulusBits: [...preset.coeffModulusBits],
      securityBits: preset.securityBits,
      sigmoidDegree: model.sigmoid.degree,
      sigmoidInterval: model.sigmoid.interval,
      sigmoidMaxError: model.sigmoid.maxError,
      scaling,
      sigmoid,
    },
    notes: plan.notes,
  };
  return { report, model };
}
