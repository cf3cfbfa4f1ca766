import { caller } from '../helpers/caller.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { Session } from '../../src-main/app/session.ts';
import { type AuditEntry, listAudit, verifyAudit } from '../../src-main/audit/log.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import type { SlotSumBytes } from '../../src-main/ckks/rotate.ts';
import { type Decrypt, decryptUnderPolicy, PolicyError } from '../../src-main/services/policy.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { decryptRun, decryptStoredInput } from '../../src-main/services/predictions.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { blocksOf, ciphertextIds } from '../../src-main/store/ciphertexts.ts';
import { getRun } from '../../src-main/store/predictions.ts';
import { cohortTotal, runOutputs, storedCiphertexts, taggedInput } from '../../src-main/services/provenance.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/** Entries appended since `seq`, so each test looks only at what it caused. */
function since(ws: Workspace, seq: number): AuditEntry[] {
  return listAudit(ws.db).filter((e) => e.seq > seq);
}

function head(ws: Workspace): number {
  return listAudit(ws.db, { limit: 1 })[0]?.seq ?? 0;
}

async function refusal(work: Promise<unknown>): Promise<PolicyError> {
  const e = await work.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PolicyError);
  return e as PolicyError;
}

describe('decryption policy', () => {
  const tmp = tempDir();
  let ws: Workspace;
  let vault: PassphraseVault;
  let holder: KeyHolder;
  /** The 19-patient pilot: enough labeled patients for aggregates. */
  let bigRun = 0;
  /** Four labeled patients: per-patient predictions yes, aggregates no (k = 5). */
  let smallRun = 0;
  let smallBatch = 0;
  /** Six patients, four of them labeled: enough for statistics over every patient, not for label totals. */
  let partialBatch = 0;
  /** Three patients without labels, predicted together with the pilot. */
  let unlabeledBatch = 0;
  let mixedRun = 0;

  /** The pilot's first rows as a file of their own, the label kept for the first `labeled` of them. */
  function pilotRows(name: string, rows: number, labeled: number): string {
    const [header, ...lines] = readFileSync(samplePath(), 'utf8').trim().split('\n');
    const kept = lines.slice(0, rows).map((l, i) => (i < labeled ? l : l.replace(/,[01]$/, ',')));
    const path = join(tmp.dir, name);
    writeFileSync(path, `${[header, ...kept].join('\n')}\n`);
    return path;
  }

  beforeAll(async () => {
    ws = Workspace.open(join(tmp.dir, 'ws'));
    vault = new PassphraseVault(ws.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const big = await importCsv(caller(ws), samplePath());
    const small = join(tmp.dir, 'four.csv');
    writeFileSync(small, `${readFileSync(samplePath(), 'utf8').trim().split('\n').slice(0, 5).join('\n')}\n`);
    // The pilot's first patients again, as a batch of their own: allowed on purpose.
    smallBatch = (await importCsv(caller(ws), small, { duplicates: 'allow' })).batchId;
    partialBatch = (await importCsv(caller(ws), pilotRows('six.csv', 6, 4), { duplicates: 'allow' })).batchId;
    unlabeledBatch = (await importCsv(caller(ws), pilotRows('three.csv', 3, 0), { duplicates: 'allow' })).batchId;
    bigRun = (await predict(caller(ws), { modelId: model.id, batchIds: [big.batchId] })).runId;
    mixedRun = (await predict(caller(ws), { modelId: model.id, batchIds: [big.batchId, unlabeledBatch] })).runId;
    smallRun = (await predict(caller(ws), { modelId: model.id, batchIds: [smallBatch] })).runId;
    holder = await KeyHolder.unlock(ws, vault);
  });

  afterAll(() => {
    holder.lock();
    ws[Symbol.dispose]();
    tmp[Symbol.dispose]();
  });

  it('decrypts prediction vectors, evaluator outputs, and records each decryption once', async () => {
    const before = head(ws);
    expect(await decryptRun(caller(ws), holder, bigRun)).toHaveLength(19);
    expect(await decryptRun(caller(ws), holder, smallRun)).toHaveLength(4);
    const entries = since(ws, before);
    expect(entries.map((e) => [e.action, e.role, e.detail])).toEqual([
      ['decrypt', 'researcher', { purpose: 'predictions', runId: bigRun, batchIds: [1], patients: 19, minPatients: 5, ciphertexts: 1, via: 'cli' }],
      ['decrypt', 'researcher', { purpose: 'predictions', runId: smallRun, batchIds: [smallBatch], patients: 4, minPatients: 5, ciphertexts: 1, via: 'cli' }],
    ]);
  });

  it('computes aggregates only over batches of at least k = 5 labeled patients; a call can raise k, never lower it', async () => {
    const before = head(ws);
    expect((await evaluateRun(caller(ws), holder, bigRun)).labeled).toBe(19);
    const tooFew = await refusal(evaluateRun(caller(ws), holder, smallRun));
    expect(tooFew.reason).toBe('too-few-patients');
    expect(tooFew.message).toContain(`batch ${smallBatch} holds 4 labeled patient(s), fewer than k = 5`);
    expect((await refusal(evaluateRun(caller(ws, { minPatients: 20 }), holder, bigRun))).reason).toBe('too-few-patients');
    const lowered = await refusal(evaluateRun(caller(ws, { minPatients: 4 }), holder, smallRun));
    expect(lowered.reason).toBe('below-policy');
    expect(lowered.message).toMatch(/^k = 4 is below this workspace's k = 5: a command can raise k, never lower it/);

    expect(since(ws, before).map((e) => [e.action, e.detail])).toEqual([
      // The pilot's one block: a prediction vector and a label vector.
      ['decrypt', { purpose: 'aggregates', runId: bigRun, batchIds: [1], patients: 19, minPatients: 5, ciphertexts: 2, via: 'cli' }],
      ['evaluate', { runId: bigRun, labeled: 19, via: 'cli' }],
      // Each refusal records the k it applied and the patients it counted.
      ['decrypt-refused', { purpose: 'aggregates', runId: smallRun, batchIds: [smallBatch], reason: 'too-few-patients', minPatients: 5, patients: 4, via: 'cli' }],
      ['decrypt-refused', { purpose: 'aggregates', runId: bigRun, batchIds: [1], reason: 'too-few-patients', minPatients: 20, patients: 19, via: 'cli' }],
      ['decrypt-refused', { purpose: 'aggregates', runId: smallRun, batchIds: [smallBatch], reason: 'below-policy', minPatients: 5, via: 'cli' }],
    ]);
  });

  it('counts what each aggregate counts: statistics every patient, label totals and training metrics the labeled', async () => {
    const before = head(ws);
    const work = async () => 'released';
    const statistics = { purpose: 'cohort-totals', what: 'cohort-statistics', batchIds: [partialBatch] } as const;
    expect(await decryptUnderPolicy(caller(ws), holder, statistics, work)).toBe('released');
    const gradient = await refusal(decryptUnderPolicy(caller(ws), holder, { purpose: 'cohort-totals', what: 'aggregated-gradient', batchIds: [partialBatch], epoch: 2 }, work));
    expect(gradient.message).toMatch(new RegExp(`^batch ${partialBatch} holds 4 labeled patient\\(s\\), fewer than k = 5: .*; the aggregated-gradient was not computed$`));
    const metrics = await refusal(decryptUnderPolicy(caller(ws), holder, { purpose: 'training-metrics', batchIds: [partialBatch], epoch: 3 }, work));
    expect(metrics.message).toMatch(/; the training cohort was not computed$/);
    expect(since(ws, before).map((e) => [e.action, e.detail])).toEqual([
      ['decrypt', { purpose: 'cohort-totals', what: 'cohort-statistics', batchIds: [partialBatch], patients: 6, minPatients: 5, ciphertexts: 0, via: 'cli' }],
      ['decrypt-refused', { purpose: 'cohort-totals', what: 'aggregated-gradient', batchIds: [partialBatch], epoch: 2, reason: 'too-few-patients', minPatients: 5, patients: 4, via: 'cli' }],
      ['decrypt-refused', { purpose: 'training-metrics', batchIds: [partialBatch], epoch: 3, reason: 'too-few-patients', minPatients: 5, patients: 4, via: 'cli' }],
    ]);
  });

  it('counts every patient for a run’s aggregates too: a batch of three without labels keeps the score histogram back', async () => {
    const before = head(ws);
    const e = await refusal(evaluateRun(caller(ws), holder, mixedRun));
    expect(e.reason).toBe('too-few-patients');
    expect(e.message).toMatch(new RegExp(`^batch ${unlabeledBatch} holds 3 patient\\(s\\), fewer than k = 5: .*; run ${mixedRun} was not computed$`));
    // Refused from the request, before any ciphertext is decrypted: one refusal, no (incomplete) decryption.
    expect(since(ws, before).map((e) => e.action)).toEqual(['decrypt-refused']);
  });

  it('names at most the first 100 ids of a request in its entry', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => 1000 + i);
    const before = head(ws);
    await refusal(decryptUnderPolicy(caller(ws), holder, { purpose: 'cohort-totals', what: 'at-risk-count', batchIds: ids }, () => 0));
    expect(since(ws, before).map((e) => e.detail['batchIds'])).toEqual([ids.slice(0, 100)]);
  });

  it('lets a command raise k but not lower it, even to 1; a k that is no positive integer is an error, not a refusal', async () => {
    expect((await refusal(decryptRun(caller(ws, { minPatients: 1 }), holder, bigRun))).reason).toBe('below-policy');
    const before = head(ws);
    for (const k of [0, -5, 2.5]) {
      await expect(decryptRun(caller(ws, { minPatients: k }), holder, bigRun)).rejects.toThrow(/^the minimum number of patients for an aggregate must be a positive integer$/);
    }
    expect(since(ws, before)).toEqual([]);
  });

  it('records work that failed after decrypting as an incomplete decryption, and nothing for work that failed before', async () => {
    const run = getRun(ws.db, ws.rowMac(), smallRun)!;
    const [output] = runOutputs(ws.db, ws.rowMac(), smallRun);
    const before = head(ws);
    const failing = (decryptFirst: boolean) =>
      decryptUnderPolicy(caller(ws), holder, { purpose: 'predictions', run }, (decrypt) => {
        if (decryptFirst) decrypt(output!);
        throw new Error('the disk is full');
      });
    await expect(failing(true)).rejects.toThrow('the disk is full');
    await expect(failing(false)).rejects.toThrow('the disk is full');
    expect(since(ws, before).map((e) => [e.action, e.detail])).toEqual([
      ['decrypt', { purpose: 'predictions', runId: smallRun, batchIds: [smallBatch], patients: 4, minPatients: 5, ciphertexts: 1, completed: false, via: 'cli' }],
    ]);
  });

  it('decides before the secret key is touched', async () => {
    const locked = await KeyHolder.unlock(ws, vault);
    locked.lock();
    expect((await refusal(evaluateRun(caller(ws), locked, smallRun))).reason).toBe('too-few-patients');
    expect((await refusal(decryptStoredInput(caller(ws), locked, [1]))).reason).toBe('stored-input');
    await expect(decryptRun(caller(ws), locked, smallRun)).rejects.toThrow(/locked/);
  });

  it('never decrypts a stored input, vitals or labels, and records the refusal by ids and counts', async () => {
    const ids = ciphertextIds(ws.db).filter(([, batchId]) => batchId === smallBatch).map(([id]) => id);
    expect(ids).toHaveLength(6); // five vitals and the label of one block
    expect(new Set(storedCiphertexts(ws.db, ws.rowMac(), ids).map((c) => `${c.provenance}/${c.kind}`))).toEqual(new Set(['input/feature', 'input/label']));
    const before = head(ws);
    const refused = await refusal(decryptStoredInput(caller(ws), holder, [...ids, 999_999]));
    expect(refused.reason).toBe('stored-input');
    expect(refused.message).toMatch(/^stored input ciphertexts are never decrypted/);
    expect(since(ws, before).map((e) => [e.action, e.detail])).toEqual([
      [
        'decrypt-refused',
        { purpose: 'stored-input', requested: 7, found: 6, ciphertextIds: ids, batchIds: [smallBatch], reason: 'stored-input', minPatients: 5, via: 'cli' },
      ],
    ]);
    expect(verifyAudit(ws.db).ok).toBe(true);
  });

  it('checks the provenance of every ciphertext it decrypts, not only the request', async () => {
    const run = getRun(ws.db, ws.rowMac(), bigRun)!;
    const block = blocksOf(ws.db, ws.rowMac(), run.batchIds[0]!).next().value!;
    const feature = taggedInput(block.columns.get('spo2')!);
    const label = taggedInput(block.columns.get('__label__')!);
    const smallLabel = taggedInput(blocksOf(ws.db, ws.rowMac(), smallBatch).next().value!.columns.get('__label__')!);
    const before = head(ws);
    const attempts: [Parameters<typeof decryptUnderPolicy>[2], typeof feature][] = [
      [{ purpose: 'predictions', run }, feature],
      [{ purpose: 'predictions', run }, label],
      [{ purpose: 'aggregates', run }, feature],
      // A label, but of a batch the run does not cover.
      [{ purpose: 'aggregates', run }, smallLabel],
    ];
    for (const [request, ct] of attempts) {
      expect((await refusal(decryptUnderPolicy(caller(ws), holder, request, (decrypt) => decrypt(ct)))).reason).toBe('not-permitted');
    }
    expect(since(ws, before).map((e) => [e.action, e.detail['purpose'], e.detail['reason']])).toEqual(
      attempts.map(([request]) => ['decrypt-refused', request.purpose, 'not-permitted']),
    );
    // The refusal names what was refused: a stored ciphertext by provenance, kind, batch and block; a cohort total as such.
    const named = async (c: Parameters<Decrypt>[0]) => (await refusal(decryptUnderPolicy(caller(ws), holder, { purpose: 'predictions', run }, (decrypt) => decrypt(c)))).message;
    expect(await named(feature)).toBe(`the input feature ciphertext of batch ${run.batchIds[0]}, block 0 may not be decrypted for predictions`);
    expect(await named(cohortTotal(new Uint8Array() as SlotSumBytes))).toBe('the cohort total may not be decrypted for predictions');
  });

  it('tags every stored ciphertext with its provenance, pinned to its table', () => {
    const distinct = (table: string) => ws.db.prepare(`SELECT DISTINCT provenance FROM ${table}`).pluck().all();
    expect(distinct('ciphertexts')).toEqual(['input']);
    expect(distinct('prediction_blocks')).toEqual(['evaluator-output']);
    expect(() => ws.db.prepare("UPDATE ciphertexts SET provenance = 'evaluator-output'").run()).toThrow(/CHECK constraint failed/);
    expect(() => ws.db.prepare("UPDATE prediction_blocks SET provenance = 'input'").run()).toThrow(/CHECK constraint failed/);
  });

  it('records through the caller’s audit: the app’s session, under the session’s role, once per decryption', async () => {
    const calls: unknown[][] = [];
    const before = head(ws);
    await decryptRun({ ws, audit: (...args) => void calls.push(args) }, holder, smallRun);
    expect(calls).toEqual([['decrypt', { purpose: 'predictions', runId: smallRun, batchIds: [smallBatch], patients: 4, minPatients: 5, ciphertexts: 1 }]]);
    expect(since(ws, before)).toEqual([]);

    const session = new Session({ workspaceDir: ws.dir, emit: () => undefined, idleLockMs: 60_000 });
    try {
      session.begin('researcher', await KeyHolder.unlock(session.workspace(), vault));
      const handlers = createHandlers(session, { pickCsv: async () => null, pickBundle: async () => null, pickSavePath: async () => null, pickDirectory: async () => null });
      expect(await handlers['predictions.decrypt']({ runId: bigRun })).toMatchObject({ patients: 19 });
      expect((await refusal(handlers['evaluate.run']({ runId: smallRun }))).reason).toBe('too-few-patients');
      expect(since(ws, before).map((e) => [e.action, e.role, e.detail['runId']])).toEqual([
        ['decrypt', 'researcher', bigRun],
        ['decrypt-refused', 'researcher', smallRun],
      ]);
    } finally {
      session.dispose();
    }
  });
});
