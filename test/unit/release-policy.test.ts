import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src-main/store/ciphertexts.ts';
import { createKeySet } from '../../src-main/services/key-sets.ts';
import { DEFAULT_POLICY, loosening, PolicyChangeError, privacyStatus, releasePolicy, tightenPolicy } from '../../src-main/services/release-policy.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { caller } from '../helpers/caller.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const strict = { minPatients: 10, maxModelsPerBatch: 2, dp: { epsilon: 0.5, budget: 4 } };

async function keyedWorkspace(dir: string): Promise<Workspace> {
  const ws = Workspace.open(dir);
  await createKeySet(caller(ws), 'standard', () => new PassphraseVault(dir, PASSPHRASE));
  return ws;
}

describe('the release policy', () => {
  it('names the rule a change would loosen, every rule, and lets every tightening through', () => {
    expect(loosening(strict, strict)).toBeNull();
    expect(loosening(strict, { ...strict, minPatients: 9 })).toMatch(/k can only be raised \(it is 10\)/);
    expect(loosening(strict, { ...strict, minPatients: 11, maxModelsPerBatch: 1, dp: { epsilon: 0.4, budget: 3 } })).toBeNull();
    expect(loosening(strict, { ...strict, maxModelsPerBatch: 3 })).toMatch(/cap on models per batch can only be lowered \(it is 2\)/);
    expect(loosening(strict, { ...strict, dp: null })).toMatch(/once on, stays on/);
    expect(loosening(strict, { ...strict, dp: { epsilon: 0.6, budget: 4 } })).toMatch(/epsilon per release can only be lowered \(it is 0.5\)/);
    expect(loosening(strict, { ...strict, dp: { epsilon: 0.5, budget: 5 } })).toMatch(/budget can only be lowered \(it is 4\)/);
    expect(loosening({ ...strict, dp: null }, strict)).toBeNull();
  });

  it('starts at the defaults, tightens rule by rule, refuses to loosen, and logs each change in its transaction', async () => {
    using tmp = tempDir();
    using ws = await keyedWorkspace(tmp.dir);
    const c = caller(ws);
    expect(releasePolicy(ws)).toEqual(DEFAULT_POLICY);
    expect(await tightenPolicy(c, { minPatients: 10 })).toEqual({ ...DEFAULT_POLICY, minPatients: 10 });
    expect(await tightenPolicy(c, { dp: { epsilon: 1, budget: 8 } })).toMatchObject({ minPatients: 10, dp: { epsilon: 1, budget: 8 } });
    await expect(tightenPolicy(c, { minPatients: 6 })).rejects.toThrow(PolicyChangeError);
    await expect(tightenPolicy(c, { dp: null })).rejects.toThrow(/refused: differential privacy, once on, stays on\. The release policy can only be made stricter/);
    expect(releasePolicy(ws)).toEqual({ minPatients: 10, maxModelsPerBatch: 3, dp: { epsilon: 1, budget: 8 } });
    const logged = ws.db.prepare("SELECT detail FROM audit_log WHERE action = 'policy' ORDER BY seq").pluck().all() as string[];
    expect(logged.map((d) => JSON.parse(d))).toEqual([
      { minPatients: 10, maxModelsPerBatch: 3, epsilon: null, budget: null, previousMinPatients: 5, via: 'cli' },
      { minPatients: 10, maxModelsPerBatch: 3, epsilon: 1, budget: 8, previousMinPatients: 10, via: 'cli' },
    ]);
  });

  it('keeps the strictest of row, log and defaults: deleting the row lowers nothing, editing it is caught', async () => {
    using tmp = tempDir();
    using ws = await keyedWorkspace(tmp.dir);
    await tightenPolicy(caller(ws), strict);
    // Whoever holds the .db file deletes the policy row: the activity log still says what was decided.
    ws.db.prepare('DELETE FROM policies').run();
    expect(releasePolicy(ws)).toEqual(strict);
    // A looser row written back without the integrity key fails its tag.
    await tightenPolicy(caller(ws), { minPatients: 12 });
    ws.db.prepare('UPDATE policies SET json = ?').run(JSON.stringify({ ...strict, minPatients: 2 }));
    expect(() => releasePolicy(ws)).toThrow(IntegrityError);
  });

  it('keeps the log’s stricter privacy budget over an older, genuinely tagged policy row put back in the file', async () => {
    using tmp = tempDir();
    using ws = await keyedWorkspace(tmp.dir);
    await tightenPolicy(caller(ws), { dp: { epsilon: 1, budget: 8 } });
    const older = ws.db.prepare('SELECT json, updated_at, mac FROM policies').get() as { json: string; updated_at: string; mac: Buffer };
    await tightenPolicy(caller(ws), { dp: { epsilon: 0.5, budget: 4 } });
    // A rollback: the row's tag is valid (same key set), only the log knows it was tightened since.
    ws.db.prepare('UPDATE policies SET json = ?, updated_at = ?, mac = ?').run(older.json, older.updated_at, older.mac);
    expect(releasePolicy(ws).dp).toEqual({ epsilon: 0.5, budget: 4 });
    expect(privacyStatus(ws)).toMatchObject({ verified: true, policy: { dp: { epsilon: 0.5, budget: 4 } } });
  });

  it('shows a reader without the integrity key the strictest policy the log records, marked unverified', async () => {
    using tmp = tempDir();
    using ws = await keyedWorkspace(tmp.dir);
    await tightenPolicy(caller(ws), { minPatients: 8 });
    expect(privacyStatus(ws)).toMatchObject({ policy: { ...DEFAULT_POLICY, minPatients: 8 }, verified: true });
    ws.dropRowMac();
    // A policy with no differential privacy is logged with a null epsilon, and read back as such.
    expect(privacyStatus(ws)).toMatchObject({ policy: { ...DEFAULT_POLICY, minPatients: 8 }, verified: false });
  });

  it('shows the unverified reader a logged differential-privacy rule too', async () => {
    using tmp = tempDir();
    using ws = await keyedWorkspace(tmp.dir);
    await tightenPolicy(caller(ws), strict);
    ws.dropRowMac();
    const status = privacyStatus(ws);
    expect(status).toMatchObject({ policy: strict, verified: false, epsilonSpent: 0, releases: [] });
  });
});
