import { describe, expect, it } from 'vitest';
import { epsilonSpent, listAudit, privacyLedger } from '../../src-main/audit/log.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { decryptUnderPolicy, PolicyError, type Release } from '../../src-main/services/policy.ts';
import { predict } from '../../src-main/services/predict.ts';
import { tightenPolicy } from '../../src-main/services/release-policy.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { caller } from '../helpers/caller.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/* The differential-privacy budget, in process: each release spends its epsilon, the last one that fits passes. */
describe('the privacy budget', () => {
  it('releases while epsilon spent + this release fits the budget, then refuses, recording each spend and the refusal', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const { batchId } = await importCsv(caller(ws), samplePath());
    const { runId } = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
    // Two releases of 0.5 fit a budget of 1 exactly; the third does not.
    await tightenPolicy(caller(ws), { dp: { epsilon: 0.5, budget: 1 } });
    const holder = await KeyHolder.unlock(ws, vault);
    try {
      for (let i = 0; i < 2; i++) expect((await evaluateRun(caller(ws), holder, runId)).labeled).toBe(19);
      expect(epsilonSpent(ws.db)).toBe(1);
      const refused = await evaluateRun(caller(ws), holder, runId).then(
        () => expect.unreachable('the budget is spent'),
        (e: unknown) => e as PolicyError,
      );
      expect(refused).toBeInstanceOf(PolicyError);
      expect(refused.reason).toBe('budget');
      expect(refused.message).toMatch(/^the privacy budget is spent: 1\.00 of 1 used, and this release needs 0\.5/);
    } finally {
      holder.lock();
    }
    expect(privacyLedger(ws.db).map((r) => [r.purpose, r.epsilon, r.patients])).toEqual([
      ['aggregates', 0.5, 19],
      ['aggregates', 0.5, 19],
    ]);
    expect(listAudit(ws.db, { action: 'decrypt-refused' }).map((e) => e.detail)).toEqual([
      { purpose: 'aggregates', runId, batchIds: [batchId], reason: 'budget', minPatients: 5, via: 'cli' },
    ]);
  });

  it('gives each release Laplace noise of scale sensitivity / (epsilon × share), and a budget of decimal epsilons fills exactly', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const { batchId } = await importCsv(caller(ws), samplePath());
    // 0.1 + 0.1 + 0.1 is 0.30000000000000004 in floating point: three releases still fit a budget of 0.3.
    await tightenPolicy(caller(ws), { dp: { epsilon: 0.1, budget: 0.3 } });
    const holder = await KeyHolder.unlock(ws, vault);
    const statistics = { purpose: 'cohort-totals', what: 'cohort-statistics', batchIds: [batchId] } as const;
    try {
      const releases: Release[] = [];
      for (let i = 0; i < 3; i++) releases.push(await decryptUnderPolicy(caller(ws), holder, statistics, (_decrypt, release) => release));
      expect(releases.map((r) => [r.k, r.dp?.epsilon])).toEqual([[5, 0.1], [5, 0.1], [5, 0.1]]);
      // Mean |Laplace(b)| is b: sensitivity 1 over epsilon 0.1 × share 0.5 is b = 20, within 5% over 40,000 draws.
      const draws = Array.from({ length: 40_000 }, () => Math.abs(releases[0]!.dp!.laplace(1, 0.5)));
      expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(20, -0.3);
      await expect(decryptUnderPolicy(caller(ws), holder, statistics, () => 0)).rejects.toThrow(/^the privacy budget is spent: 0\.30 of 0\.3 used/);
    } finally {
      holder.lock();
    }
    expect(epsilonSpent(ws.db)).toBeCloseTo(0.3, 12);
  });
});
