import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caller } from '../helpers/caller.ts';
import { describe, expect, it } from 'vitest';
import { KeySetMismatchError } from '../../src-main/ckks/errors.ts';
import { writeCohortCsv } from '../../src-main/ingest/synthetic-cohort.ts';
import { CsvValidationError } from '../../src-main/ingest/index.ts';
import { runExperiment } from '../../src-main/services/experiment.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder, KeySetExistsError } from '../../src-main/services/key-sets.ts';
import { contextFor } from '../../src-main/ckks/contexts.ts';
import { generateKeySet } from '../../src-main/ckks/keys.ts';
import { insertKeySet } from '../../src-main/store/keysets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { decryptRun } from '../../src-main/services/predictions.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { tableCounts } from '../helpers/store.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { PASSPHRASE, SHARED, tempDir } from '../helpers/workspace.ts';

describe('encrypted pipeline on real CKKS and a real SQLite file', () => {
  it('runs the 19-patient pilot end to end (demo)', async () => {
    const { report } = await runExperiment(samplePath(), { testFraction: 0 });
    expect(report.nTest).toBe(19);
    expect(report.metrics.confusion).toEqual({ tp: 3, fp: 0, tn: 16, fn: 0 });
    // Exact mode: the decrypted logit through the logistic function, against the plaintext model's own.
    expect(report.fidelity).toMatchObject({ sigmoid: 'exact', labelAgreement: 1 });
    expect(report.fidelity.maxAbsProbError).toBeLessThanOrEqual(1e-4);
    expect(report.params).toMatchObject({ preset: 'standard', polyModulusDegree: 8192, securityBits: 128, sigmoidDegree: 3, sigmoid: 'exact' });
  });

  it('matches the plaintext model on framingham (generic schema, rows with gaps dropped)', async () => {
    const { report } = await runExperiment(join(SHARED, 'framingham.csv'), { ingest: { label: 'TenYearCHD', missing: 'drop' } });
    expect(report.nTrain + report.nTest).toBe(3656);
    expect(report.fidelity.labelAgreement).toBe(1);
    expect(report.fidelity.maxAbsProbError).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(report.metrics.auc - report.plaintextMetrics.auc)).toBeLessThan(1e-3);
    expect(report.metrics.brier).toBeCloseTo(report.plaintextMetrics.brier, 4);
  });

  it('matches the exact model on maternal-health-risk to 1e-4, where the polynomial is off by far more', async () => {
    using tmp = tempDir();
    // Two of its rows have impossible heart rates: skipped, with the report written beside the copy.
    const file = join(tmp.dir, 'maternal-health-risk.csv');
    copyFileSync(join(SHARED, 'maternal-health-risk.csv'), file);
    const ingest = { label: 'RiskLevel', positive: 'high risk', invalid: 'skip' as const };
    const exact = (await runExperiment(file, { ingest })).report;
    expect(exact.fidelity).toMatchObject({ sigmoid: 'exact', labelAgreement: 1 });
    expect(exact.fidelity.maxAbsProbError).toBeLessThanOrEqual(1e-4);
    const poly = (await runExperiment(file, { ingest, sigmoid: 'polynomial' })).report;
    expect(poly.fidelity.againstPolynomial!.maxAbsProbError).toBeLessThanOrEqual(1e-4);
    expect(poly.fidelity.maxAbsProbError).toBeGreaterThan(100 * exact.fidelity.maxAbsProbError);
  });

  it('evaluates explicit scaling with a degree-7 sigmoid on the deep preset', async () => {
    const { report } = await runExperiment(samplePath(), { testFraction: 0, preset: 'deep', scaling: 'explicit', sigmoidDegree: 7, sigmoid: 'polynomial' });
    expect(report.params.polyModulusDegree).toBe(16384);
    expect(report.fidelity.againstPolynomial!.maxAbsProbError).toBeLessThan(1e-3);
    expect(report.fidelity.labelAgreement).toBe(1);
  });

  it('imports, trains, predicts, decrypts and evaluates in a workspace', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const imported = await importCsv(caller(ws), samplePath());
    expect(imported).toMatchObject({ rows: 19, labeledRows: 19, blocks: 1, hospitals: ['H-CENTRAL', 'H-NORTH', 'H-SOUTH'] });
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const run = await predict(caller(ws), { modelId: model.id, batchIds: [imported.batchId] });
    const holder = await KeyHolder.unlock(ws, vault);
    const preds = await decryptRun(caller(ws), holder, run.runId);
    expect(preds).toHaveLength(19);
    expect(preds.filter((p) => p.atRisk)).toHaveLength(3);
    const ev = await evaluateRun(caller(ws), holder, run.runId);
    expect(ev.labeled).toBe(19);
    expect(ev.metrics.accuracy).toBe(1);
    expect(ev.histogram.reduce((a, b) => a + b.patients, 0)).toBe(19);
    holder.lock();
    expect(() => holder.secretKey()).toThrow(/locked/);
  });

  it('predicts across several ciphertext blocks (more patients than slots)', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const csv = join(tmp.dir, 'cohort.csv');
    await writeCohortCsv(csv, { patients: 9000, seed: 3 });
    const imported = await importCsv(caller(ws), csv);
    expect(imported.blocks).toBe(3);
    const model = await trainFromCsv(csv, {});
    registerModel(caller(ws), model);
    const run = await predict(caller(ws), { modelId: model.id, batchIds: [imported.batchId] });
    const holder = await KeyHolder.unlock(ws, vault);
    const preds = await decryptRun(caller(ws), holder, run.runId);
    expect(preds).toHaveLength(9000);
    expect(new Set(preds.map((p) => p.patientId)).size).toBe(9000);
    expect((await evaluateRun(caller(ws), holder, run.runId)).metrics.auc).toBeGreaterThan(0.8);
  });

  it('leaves the database unchanged when an import fails validation or is cancelled', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    await createKeySet(caller(ws), 'standard', () => new PassphraseVault(tmp.dir, PASSPHRASE));
    await importCsv(caller(ws), samplePath());
    const before = tableCounts(ws.db);
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(
      bad,
      'hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2\n' +
        'H1,P1,37.0,120,80,16,98\nH1,P2,37.1,118,79,15,abc\nH1,P3,52.0,121,80,14,97\n',
    );
    const err = await importCsv(caller(ws), bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvValidationError);
    const issues = (err as CsvValidationError).issues;
    expect(issues.map((i) => [i.row, i.column])).toEqual([
      [3, 'spo2'],
      [4, 'temperature_c'],
    ]);
    expect(tableCounts(ws.db)).toEqual(before);

    const controller = new AbortController();
    controller.abort();
    await expect(importCsv(caller(ws), samplePath(), {}, { signal: controller.signal })).rejects.toThrow(/cancel|abort/i);
    expect(tableCounts(ws.db)).toEqual(before);
  });

  it('refuses a batch encrypted under another key set, before any computation', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    await createKeySet(caller(ws), 'standard', () => new PassphraseVault(tmp.dir, PASSPHRASE));
    const { batchId } = await importCsv(caller(ws), samplePath());
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    // A second key set is refused by the use case ...
    await expect(createKeySet(caller(ws), 'standard', () => new PassphraseVault(tmp.dir, PASSPHRASE))).rejects.toThrow(KeySetExistsError);
    // ... so the store is made to hold one behind its back, as a half-finished key change would leave it.
    const other = generateKeySet(await contextFor('standard'));
    other.secretKey.fill(0);
    const { secretKey: _, ...keys } = other;
    insertKeySet(ws.db, { ...keys, galoisSteps: [], polyModulusDegree: 8192, coeffModulusBits: [50, 35, 35, 35, 50], scaleBits: 35, custody: 'passphrase', createdAt: new Date().toISOString() });
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(KeySetMismatchError);
  });

  it('refuses a wrong passphrase with a clear error', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    await createKeySet(caller(ws), 'standard', () => new PassphraseVault(tmp.dir, PASSPHRASE));
    await expect(KeyHolder.unlock(ws, new PassphraseVault(tmp.dir, 'not the passphrase'))).rejects.toThrow(/wrong passphrase/);
  });
});
