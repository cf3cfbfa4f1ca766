import { describe, expect, it } from 'vitest';
import { epsilonSpent, listAudit, privacyLedger } from '../../src-main/audit/log.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { PolicyError } from '../../src-main/services/policy.ts';
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
});
