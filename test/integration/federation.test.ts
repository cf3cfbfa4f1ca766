import { caller } from '../helpers/caller.ts';
import { cpSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src-main/audit/log.ts';
import { shortFingerprint } from '../../src-main/ckks/keys.ts';
import { encryptBundle } from '../../src-main/services/bundle-encrypt.ts';
import { BundleError, type BundleRefusal } from '../../src-main/federation/errors.ts';
import { HospitalIdentity, keyIdOf } from '../../src-main/federation/identity.ts';
import { parseBundle } from '../../src-main/federation/bundle.ts';
import { importBundle } from '../../src-main/services/bundle-import.ts';
import { type Kit, kitJson, parseKit } from '../../src-main/federation/kit.ts';
import { readAll } from '../../src-main/ingest/index.ts';
import { linear, trainGradientDescent, trainLogistic, predictProba } from '../../src-main/ml/logistic.ts';
import { classificationMetrics, logLoss } from '../../src-main/ml/metrics.ts';
import { fitScaler, transform } from '../../src-main/ml/scaler.ts';
import { evalPoly, fitSigmoidPoly } from '../../src-main/ml/sigmoid-poly.ts';
import { balanceClasses, stratifiedSplit } from '../../src-main/ml/split.ts';
import { trainEncrypted } from '../../src-main/services/train-encrypted.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { rotateKeys } from '../../src-main/services/key-rotation.ts';
import { predict } from '../../src-main/services/predict.ts';
import { PolicyError } from '../../src-main/services/policy.ts';
import { decryptRun } from '../../src-main/services/predictions.ts';
import { computeCohortStats } from '../../src-main/services/stats.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import type { Db } from '../../src-main/store/db.ts';
import { hospitalKey } from '../../src-main/store/federation.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { PASSPHRASE, SHARED, tempDir } from '../helpers/workspace.ts';

// TenSEAL's tutorial: drop rows with any gap, keep these 9 features, balance the classes, 70/30 split.
const FEATURES = ['male', 'age', 'cigsPerDay', 'prevalentStroke', 'prevalentHyp', 'totChol', 'sysBP', 'heartRate', 'glucose'];
/** The columns the importer recognises as known quantities, stored under their canonical names. */
const RECOGNISED: Record<string, string> = { sysBP: 'systolic_bp', heartRate: 'heart_rate', glucose: 'glucose' };
const LABEL = 'TenYearCHD';
const SEED = 73;
const HYPER = { epochs: 5, lr: 1, l2: 0.05, nesterov: false, sigmoidInterval: 8 };
const HOSPITALS = ['H-ALPHA', 'H-BETA', 'H-GAMMA'];

function take(columns: Float64Array[], rows: ArrayLike<number>): Float64Array[] {
  return columns.map((c) => Float64Array.from(rows, (i) => c[i]!));
}

function writeCsv(path: string, x: Float64Array[], y: Float64Array, rows: readonly number[]): void {
  const lines = [[...FEATURES, LABEL].join(',')];
  for (const i of rows) lines.push([...x.map((c) => String(c[i]!)), String(y[i]!)].join(','));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const COUNTED = ['batches', 'patients', 'ciphertexts', 'bundles', 'hospital_keys'];
function counts(db: Db): Record<string, number> {
  return Object.fromEntries(COUNTED.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number]));
}

async function refusal(work: Promise<unknown>): Promise<BundleRefusal> {
  const e = await work.then(
    () => expect.unreachable('the bundle should have been refused'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BundleError);
  return (e as BundleError).code;
}

describe('three hospitals: kit, signed bundles, encrypted statistics, training and prediction', () => {
  // Shared, read-only: the hospitals' identities and bundles, and the key holder's workspace after importing them.
  // Each test works in a copy of that workspace and in a folder of its own (see pooled()).
  const tmp = tempDir('homopai-federation-');
  const dir = tmp.dir;
  const prepared = join(dir, 'ws');
  let kit: Kit;
  const bundles: string[] = [];
  let imported: Awaited<ReturnType<typeof importBundle>>[];
  let trainX: Float64Array[];
  let trainY: Float64Array;
  let testX: Float64Array[];
  let testY: Float64Array;

  const encryptAs = async (hospital: string, csv: string, out: string, withKit = kit, hospitalDir = join(dir, hospital)): Promise<string> => {
    const { identity } = await HospitalIdentity.open(hospitalDir, hospital, PASSPHRASE);
    try {
      await encryptBundle({ kit: withKit, identity, csv, out, ingest: { label: LABEL } });
    } finally {
      identity.lock();
    }
    return out;
  };

  /**
   * The pooled workspace, copied into a folder of this test's own and unlocked by its key holder (the row key
   * is what lets it read and write rows), with a scratch folder beside it.
   */
  async function pooled(): Promise<{ ws: Workspace; holder: KeyHolder; scratch: string; [Symbol.dispose](): void }> {
    const own = tempDir('homopai-federation-test-');
    cpSync(prepared, join(own.dir, 'ws'), { recursive: true });
    const ws = Workspace.open(join(own.dir, 'ws'));
    const holder = await KeyHolder.unlock(ws, new PassphraseVault(join(own.dir, 'ws'), PASSPHRASE));
    return {
      ws,
      holder,
      scratch: own.dir,
      [Symbol.dispose]: () => {
        holder.lock();
        ws[Symbol.dispose]();
        own[Symbol.dispose]();
      },
    };
  }

  beforeAll(async () => {
    const { plan, data } = await readAll(join(SHARED, 'framingham.csv'), { label: LABEL, missing: 'drop' });
    expect(data.labels!.length).toBe(3656);
    const columns = FEATURES.map((f) => data.values[plan.features.findIndex((p) => p.source === f)]!);
    const kept = balanceClasses(data.labels!, SEED);
    const x = take(columns, kept);
    const y = Float64Array.from(kept, (i) => data.labels![i]!);
    const split = stratifiedSplit(y, 0.3, SEED);
    expect([split.train.length, split.test.length]).toEqual([780, 334]);
    [trainX, testX] = [take(x, split.train), take(x, split.test)];
    [trainY, testY] = [Float64Array.from(split.train, (i) => y[i]!), Float64Array.from(split.test, (i) => y[i]!)];

    using ws = Workspace.open(prepared);
    await createKeySet(caller(ws), 'standard', () => new PassphraseVault(prepared, PASSPHRASE));
    const kitPath = join(dir, 'kit.json');
    writeFileSync(kitPath, kitJson(ws.requireKeySet()));
    // The hospital side sees only this file.
    kit = parseKit(readFileSync(kitPath, 'utf8'));

    // Each hospital holds a third of the training rows; the first also contributes the held-out test rows.
    const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
    for (const [h, hospital] of HOSPITALS.entries()) {
      const csv = join(dir, `${hospital}.csv`);
      writeCsv(csv, trainX, trainY, all(trainY.length).filter((i) => i % 3 === h));
      bundles.push(await encryptAs(hospital, csv, join(dir, `${hospital}.bundle`)));
    }
    const testCsv = join(dir, 'test.csv');
    writeCsv(testCsv, testX, testY, all(testY.length));
    bundles.push(await encryptAs(HOSPITALS[0]!, testCsv, join(dir, 'test.bundle')));
    imported = [];
    for (const b of bundles) imported.push(await importBundle(caller(ws), b));
  });

  afterAll(() => {
    tmp[Symbol.dispose]();
  });

  it('trains on the pooled ciphertexts and matches plaintext gradient descent', async () => {
    using pool = await pooled();
    const { ws, holder } = pool;
    expect(imported.map((r) => [r.hospital, r.newHospital])).toEqual([
      ['H-ALPHA', true],
      ['H-BETA', true],
      ['H-GAMMA', true],
      ['H-ALPHA', false],
    ]);
    expect(imported.reduce((s, r) => s + r.rows, 0)).toBe(1114);
    // Pseudonyms only: no record number (ingest's "<file>-<row>") reaches the workstation.
    const ids = ws.db.prepare('SELECT patient_id FROM patients').pluck().all() as string[];
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    const trainBatches = imported.slice(0, 3).map((r) => r.batchId);
    const testBatch = imported[3]!.batchId;

    const stats = await computeCohortStats(caller(ws), holder, trainBatches);
    const scaler = fitScaler(trainX);
    expect(stats.patients).toBe(780);
    expect(stats.positives).toBe(trainY.reduce((s, v) => s + v, 0));
    stats.features.forEach((f, j) => {
      expect(f.name).toBe(RECOGNISED[FEATURES[j]!] ?? FEATURES[j]);
      expect(f.count).toBe(780);
      // CKKS noise: ~1e-7 absolute per slot, summed over the slots and divided by n.
      // Released at six significant digits (precision.ts), far above the CKKS noise of ~1e-7.
      expect(Math.abs(f.mean - scaler.mean[j]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(scaler.mean[j]!)));
      expect(Math.abs(f.std - scaler.std[j]!) / scaler.std[j]!).toBeLessThan(1e-4);
    });

    const trained = await trainEncrypted(caller(ws), holder, trainBatches, HYPER);
    const { model } = trained;
    const epochMs = trained.epochs.map((e) => e.evaluateMs + e.refreshMs);

    // The plaintext twin: same scaler, same hyper-parameters, same polynomial sigmoid.
    const poly = fitSigmoidPoly(3, HYPER.sigmoidInterval);
    const polySigmoid = (z: number): number => evalPoly(poly, z);
    const xs = transform(scaler, trainX);
    const twin = trainGradientDescent(xs, trainY, { ...HYPER, sigmoid: polySigmoid });
    model.weights.forEach((w, j) => expect(Math.abs(w - twin.weights[j]!)).toBeLessThan(1e-4));
    expect(Math.abs(model.bias - twin.bias)).toBeLessThan(1e-4);

    // The last epoch's training metrics (encrypted prediction, aggregates decrypted) are the twin's on the training set.
    const twinTrain = linear(xs, twin).map((z) => Math.min(1, Math.max(0, polySigmoid(z))));
    const last = trained.epochs.at(-1)!.training!;
    expect(Math.abs(last.logLoss - logLoss(trainY, twinTrain))).toBeLessThan(1e-4);
    expect(Math.abs(last.accuracy - classificationMetrics(trainY, twinTrain).accuracy)).toBeLessThanOrEqual(1 / 780);
    expect(trained.epochs[0]!.training!.logLoss).toBeGreaterThan(last.logLoss);
    expect(listAudit(ws.db, { action: 'decrypt' }).filter((e) => e.detail['purpose'] === 'training-metrics').map((e) => e.detail['epoch'])).toEqual([1, 2, 3, 4, 5]);

    const run = await predict(caller(ws), { modelId: model.id, batchIds: [testBatch] });
    const predictions = await decryptRun(caller(ws), holder, run.runId);
    holder.lock();
    const encrypted = classificationMetrics(testY, predictions.map((p) => p.probability));
    const xt = transform(scaler, testX);
    const plain = classificationMetrics(testY, linear(xt, twin).map((z) => Math.min(1, Math.max(0, polySigmoid(z)))));
    expect(Math.abs(encrypted.accuracy - plain.accuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(encrypted.auc - plain.auc)).toBeLessThanOrEqual(0.01);
    const newton = classificationMetrics(testY, predictProba(xt, trainLogistic(xs, trainY)));
    console.info(
      `framingham, 3 hospitals, 780 train / 334 test: encrypted training accuracy ${encrypted.accuracy.toFixed(4)} AUC ` +
        `${encrypted.auc.toFixed(4)}; plaintext GD (same polynomial) ${plain.accuracy.toFixed(4)} / ${plain.auc.toFixed(4)}; ` +
        `plaintext Newton LR ${newton.accuracy.toFixed(4)} / ${newton.auc.toFixed(4)}; epoch ms ${epochMs.map((m) => m.toFixed(0)).join(', ')} ` +
        `(setup ${trained.prepareMs.toFixed(0)} ms)`,
    );

    // Every refresh (one per epoch) is in the audit log, with counts only.
    const refreshes = listAudit(ws.db, { action: 'decrypt' }).filter((e) => e.detail['what'] === 'aggregated-gradient');
    expect(refreshes.map((e) => e.detail['epoch'])).toEqual([1, 2, 3, 4, 5]);
    expect(refreshes[0]!.detail).toMatchObject({ purpose: 'cohort-totals', patients: 780, ciphertexts: 10 });
    expect(listAudit(ws.db, { action: 'keygen' }).map((e) => e.detail['key'])).toEqual(['key-set', 'galois']);
  });

  it('refuses truncated, altered, replayed, foreign-key and re-keyed bundles, storing nothing', async () => {
    using pool = await pooled();
    const { ws, scratch } = pool;
    const before = counts(ws.db);
    const original = readFileSync(bundles[0]!);

    const truncated = join(scratch, 'truncated.bundle');
    writeFileSync(truncated, original.subarray(0, original.length - 1000));
    expect(await refusal(importBundle(caller(ws), truncated))).toBe('truncated');

    const flipped = join(scratch, 'flipped.bundle');
    const altered = Buffer.from(original);
    altered[Math.floor(altered.length / 2)]! ^= 0x01;
    writeFileSync(flipped, altered);
    expect(await refusal(importBundle(caller(ws), flipped))).toBe('signature');

    await expect(importBundle(caller(ws), bundles[0]!)).rejects.toThrow(/was already imported \(batch \d+, \d{4}-\d{2}-\d{2}\): a bundle is imported once$/);

    // Not a bundle, under a long name; a file larger than any bundle (sparse: nothing is written or read).
    const longName = join(scratch, `${'n'.repeat(230)}.bundle`);
    writeFileSync(longName, 'plain text, not a bundle');
    expect(await refusal(importBundle(caller(ws), longName))).toBe('not-a-bundle');
    const huge = join(scratch, 'huge.bundle');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 31);
    await expect(importBundle(caller(ws), huge)).rejects.toThrow(/^huge\.bundle is 2147483648 bytes, more than a bundle may be \(2147483647\): not read$/);
    // A file that is not there is no refused bundle: nothing to record.
    await expect(importBundle(caller(ws), join(scratch, 'missing.bundle'))).rejects.toThrow(/ENOENT/);

    using otherWs = Workspace.open(join(scratch, 'other-ws'));
    await createKeySet(caller(otherWs), 'standard', () => new PassphraseVault(join(scratch, 'other-ws'), PASSPHRASE));
    const foreignKit = parseKit(kitJson(otherWs.requireKeySet()));
    const small = join(scratch, 'small.csv');
    writeCsv(small, trainX, trainY, [0, 1, 2, 3, 4]);
    expect(await refusal(importBundle(caller(ws), await encryptAs('H-BETA', small, join(scratch, 'foreign.bundle'), foreignKit)))).toBe('key-set');

    // Same hospital name, another signing key (a new identity folder): refused against the pinned key.
    const impostor = await encryptAs('H-GAMMA', small, join(scratch, 'impostor.bundle'), kit, join(scratch, 'impostor-dir'));
    const rekeyed = importBundle(caller(ws), impostor);
    expect(await refusal(rekeyed)).toBe('hospital-key-changed');
    await expect(importBundle(caller(ws), impostor)).rejects.toThrow(/hospital "H-GAMMA" is registered with signing key [0-9A-F-]{19} \(since \d{4}-\d{2}-\d{2}\), but/);

    expect(counts(ws.db)).toEqual(before);
    // Each refused bundle is recorded by file name (cut to 200 characters) and reason.
    expect(listAudit(ws.db, { action: 'import-rejected' }).slice(-8).map((e) => e.detail)).toEqual([
      { file: 'truncated.bundle', reason: 'truncated', via: 'cli' },
      { file: 'flipped.bundle', reason: 'signature', via: 'cli' },
      { file: basename(bundles[0]!), reason: 'replay', via: 'cli' },
      { file: `${'n'.repeat(200)}`, reason: 'not-a-bundle', via: 'cli' },
      { file: 'huge.bundle', reason: 'malformed', via: 'cli' },
      { file: 'foreign.bundle', reason: 'key-set', via: 'cli' },
      { file: 'impostor.bundle', reason: 'hospital-key-changed', via: 'cli' },
      { file: 'impostor.bundle', reason: 'hospital-key-changed', via: 'cli' },
    ]);

    expect(counts(ws.db)).toEqual(before);
  });

  it('trusts no pin edited, replaced, deleted or written untagged in the .db file: the key must be named again', async () => {
    using pool = await pooled();
    const { ws, scratch } = pool;
    const small = join(scratch, 'small.csv');
    writeCsv(small, trainX, trainY, [0, 1, 2, 3, 4]);
    const impostor = await encryptAs('H-GAMMA', small, join(scratch, 'impostor.bundle'), kit, join(scratch, 'impostor-dir'));
    const impostorKey = new Uint8Array(Buffer.from(parseBundle(readFileSync(impostor)).header.hospital.signingKey, 'base64'));
    const genuine = await encryptAs('H-GAMMA', small, join(scratch, 'genuine.bundle'));
    const genuineKey = shortFingerprint(hospitalKey(ws.db, ws.rowMac(), 'H-GAMMA')!.keyId);
    const before = counts(ws.db);
    // The attacker works on the file with SQL of their own, foreign keys off as the sqlite3 shell has them.
    const attack = (sql: string, ...params: unknown[]): void => {
      ws.db.pragma('foreign_keys = OFF');
      try {
        ws.db.prepare(sql).run(...params);
      } finally {
        ws.db.pragma('foreign_keys = ON');
      }
    };
    const original = ws.db.prepare("SELECT * FROM hospital_keys WHERE hospital = 'H-GAMMA'").get() as Record<string, unknown>;
    const restore = (): void => {
      attack("DELETE FROM hospital_keys WHERE hospital = 'H-GAMMA'");
      attack('INSERT INTO hospital_keys (hospital, key_id, public_key, registered_at, mac) VALUES (?, ?, ?, ?, ?)', ...['hospital', 'key_id', 'public_key', 'registered_at', 'mac'].map((c) => original[c]));
    };

    // The key id alone pointed at the impostor's key: the pin's tag fails.
    attack("UPDATE hospital_keys SET key_id = ? WHERE hospital = 'H-GAMMA'", keyIdOf(impostorKey));
    await expect(importBundle(caller(ws), impostor)).rejects.toThrow(/^the signing key pinned for hospital "H-GAMMA" failed verification \(its integrity tag does not match/);
    // Key id and key replaced together by the impostor's, so the bundle would verify against the pin: refused too.
    attack("UPDATE hospital_keys SET public_key = ? WHERE hospital = 'H-GAMMA'", Buffer.from(impostorKey));
    expect(await refusal(importBundle(caller(ws), impostor))).toBe('hospital-key-changed');
    // The pin deleted: the store still records the hospital's bundles.
    attack("DELETE FROM hospital_keys WHERE hospital = 'H-GAMMA'");
    await expect(importBundle(caller(ws), impostor)).rejects.toThrow(/^hospital "H-GAMMA" sent 1 bundle\(s\) before, but its pinned signing key is gone from the store/);
    // The pin and the bundle rows deleted: the activity log still records the import.
    const bundleRows = ws.db.prepare("SELECT * FROM bundles WHERE hospital = 'H-GAMMA'").all() as Record<string, unknown>[];
    attack("DELETE FROM bundles WHERE hospital = 'H-GAMMA'");
    await expect(importBundle(caller(ws), impostor)).rejects.toThrow(/^hospital "H-GAMMA" sent 1 bundle\(s\) before/);
    for (const b of bundleRows) {
      attack('INSERT INTO bundles (bundle_id, hospital, batch_id, sha256, created_at, imported_at) VALUES (?, ?, ?, ?, ?, ?)', b['bundle_id'], b['hospital'], b['batch_id'], b['sha256'], b['created_at'], b['imported_at']);
    }
    restore();
    expect(counts(ws.db)).toEqual(before);

    // A pin written without a tag (as every pin before v13): not trusted, even for the genuine key, until named.
    attack("UPDATE hospital_keys SET mac = NULL WHERE hospital = 'H-GAMMA'");
    await expect(importBundle(caller(ws), genuine)).rejects.toThrow(/failed verification \(it carries no integrity tag/);
    expect(counts(ws.db)).toEqual(before);
    const accepted = await importBundle(caller(ws), genuine, { acceptKey: genuineKey });
    expect(accepted).toMatchObject({ hospitalKey: genuineKey, newHospital: false, replacedKey: `${genuineKey} (unverified pin)` });
    expect(hospitalKey(ws.db, ws.rowMac(), 'H-GAMMA')).toMatchObject({ problem: null });
    // Tagged again, the pin holds: the next bundle of the genuine key needs no flag, the impostor's is refused.
    const later = join(scratch, 'later.csv');
    writeCsv(later, trainX, trainY, [5, 6, 7, 8, 9]);
    await expect(importBundle(caller(ws), await encryptAs('H-GAMMA', later, join(scratch, 'next.bundle')))).resolves.toMatchObject({ newHospital: false, replacedKey: null });
    await expect(importBundle(caller(ws), impostor)).rejects.toThrow(/is registered with signing key/);

    // The pin deleted once more, after three bundles and a changed key on record: named, the key is pinned again.
    attack("DELETE FROM hospital_keys WHERE hospital = 'H-GAMMA'");
    const third = join(scratch, 'third.csv');
    writeCsv(third, trainX, trainY, [10, 11, 12, 13, 14]);
    const afterDeletion = await encryptAs('H-GAMMA', third, join(scratch, 'after-deletion.bundle'));
    await expect(importBundle(caller(ws), afterDeletion)).rejects.toThrow(/^hospital "H-GAMMA" sent 3 bundle\(s\) before/);
    await expect(importBundle(caller(ws), afterDeletion, { acceptKey: genuineKey })).resolves.toMatchObject({ newHospital: false, replacedKey: 'a deleted pin' });
    expect(listAudit(ws.db, { action: 'hospital-key' }).at(-1)!.detail).toMatchObject({ hospital: 'H-GAMMA', from: 'a deleted pin', to: genuineKey });
  });

  it('replaces a pinned hospital key only with the new key named, then holds the new pin', async () => {
    using pool = await pooled();
    const { ws, scratch } = pool;
    const small = join(scratch, 'small.csv');
    writeCsv(small, trainX, trainY, [0, 1, 2, 3, 4]);
    // H-GAMMA again, from a new identity folder: another signing key under the pinned name.
    const { identity } = await HospitalIdentity.open(join(scratch, 'new-identity'), 'H-GAMMA', PASSPHRASE);
    const newKey = identity.shortKeyId;
    identity.lock();
    const oldKey = hospitalKey(ws.db, ws.rowMac(), 'H-GAMMA')!.keyId;
    const rekeyed = await encryptAs('H-GAMMA', small, join(scratch, 'rekeyed.bundle'), kit, join(scratch, 'new-identity'));
    const before = counts(ws.db);

    // Naming another key (here the old one) is refused like no key at all.
    expect(await refusal(importBundle(caller(ws), rekeyed, { acceptKey: shortFingerprint(oldKey) }))).toBe('hospital-key-changed');
    // Fewer than the 16 digits of a short fingerprint name no key; a long paste is quoted cut to 80 characters.
    expect(await refusal(importBundle(caller(ws), rekeyed, { acceptKey: newKey.replace(/-/g, '').slice(0, 15) }))).toBe('hospital-key-changed');
    await expect(importBundle(caller(ws), rekeyed, { acceptKey: `${newKey} ${'x'.repeat(100)}` })).rejects.toThrow(
      `the key to accept, ${`${newKey} ${'x'.repeat(100)}`.slice(0, 80)}, is not the key`,
    );
    await expect(importBundle(caller(ws), rekeyed)).rejects.toThrow(`--accept-key ${newKey}`);
    expect(counts(ws.db)).toEqual(before);

    const recorded: [string, unknown][] = [];
    const recording = { ws, audit: (action: string, detail: object) => void recorded.push([action, (detail as { from?: string }).from ?? null]) };
    const r = await importBundle(recording, rekeyed, { acceptKey: newKey.toLowerCase() });
    expect(r).toMatchObject({ hospital: 'H-GAMMA', hospitalKey: newKey, newHospital: false, replacedKey: shortFingerprint(oldKey), rows: 5 });
    expect(recorded).toEqual([
      ['hospital-key', shortFingerprint(oldKey)],
      ['import', null],
    ]);
    expect(shortFingerprint(hospitalKey(ws.db, ws.rowMac(), 'H-GAMMA')!.keyId)).toBe(newKey);
    // The old key is now the changed one.
    const oldSigned = await encryptAs('H-GAMMA', small, join(scratch, 'old-key.bundle'));
    expect(await refusal(importBundle(caller(ws), oldSigned))).toBe('hospital-key-changed');
  });

  it('keeps the hospitals’ pins through a key rotation, tagged under the new key set', async () => {
    using pool = await pooled();
    const { ws, holder, scratch } = pool;
    await rotateKeys(caller(ws), holder, new PassphraseVault(join(scratch, 'ws'), PASSPHRASE), { old: 'archive', clinicians: null });
    expect(HOSPITALS.map((h) => hospitalKey(ws.db, ws.rowMac(), h)?.problem)).toEqual([null, null, null]);
    const small = join(scratch, 'small.csv');
    writeCsv(small, trainX, trainY, [0, 1, 2, 3, 4]);
    const rotatedKit = parseKit(kitJson(ws.requireKeySet()));
    await expect(importBundle(caller(ws), await encryptAs('H-GAMMA', small, join(scratch, 'after.bundle'), rotatedKit))).resolves.toMatchObject({
      newHospital: false,
      replacedKey: null,
    });
  });

  it('decrypts no total over fewer than k patients (the decryption policy)', async () => {
    using pool = await pooled();
    const { ws, holder, scratch } = pool;
    const tiny = join(scratch, 'tiny.csv');
    writeCsv(tiny, trainX, trainY, [0, 1, 2]);
    const { batchId } = await importBundle(caller(ws), await encryptAs('H-BETA', tiny, join(scratch, 'tiny.bundle')), { duplicates: 'allow' });
    await expect(computeCohortStats(caller(ws), holder, [batchId])).rejects.toBeInstanceOf(PolicyError);
    await expect(trainEncrypted(caller(ws), holder, [batchId], HYPER)).rejects.toThrow(/holds 3 patient\(s\), fewer than k = 5/);
    const refused = listAudit(ws.db, { action: 'decrypt-refused' });
    expect(refused.map((e) => e.detail['what'])).toEqual(['cohort-statistics', 'cohort-statistics']);
    expect(refused[0]!.detail).toMatchObject({ patients: 3, reason: 'too-few-patients' });
  });
});
