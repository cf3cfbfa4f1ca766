import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src-main/audit/log.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { tempDir } from '../helpers/workspace.ts';
import { cli, cliJson, copyWorkspace, editDb, pilotRows, pilotWorkspace, refused } from './attacker.ts';

/*
 * Attack 3: lower k from the command line (--min-patients 1) to release aggregates over a batch of one, or lower
 * the workspace's own k. A command can only raise k; the policy can only be made stricter; every decryption
 * entry records the k it was checked against and the patients it counted.
 */
describe('attack 3: lowering k', () => {
  const tmp = tempDir('homopai-attack-k-');
  const base = join(tmp.dir, 'base');

  beforeAll(async () => {
    await pilotWorkspace(base);
    // Two of the pilot's patients again, as a batch of their own: allowed on purpose.
    await cli(base, ['import', pilotRows(join(tmp.dir, 'two.csv'), [3, 4]), '--duplicates', 'allow']);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('refuses --min-patients below the workspace’s k, for every aggregate command', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'cli'));
    await refused(ws, ['evaluate', '--min-patients', '1'], /k = 1 is below this workspace's k = 5: a command can raise k, never lower it/);
    await refused(ws, ['stats', '--batches', '2', '--min-patients', '2'], /k = 2 is below this workspace's k = 5/);
    await refused(ws, ['train', '--encrypted', '--batches', '2', '--min-patients', '1'], /k = 1 is below this workspace's k = 5/);
    // Raising works, and is what the entry records.
    await refused(ws, ['evaluate', '--min-patients', '20'], /fewer than k = 20/);
    const e = await cliJson<{ release: { minPatients: number } }>(ws, ['evaluate', '--min-patients', '6']);
    expect(e.release.minPatients).toBe(6);
  });

  it('refuses lowering the workspace’s k, by command or by editing its row', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'policy'));
    await cli(ws, ['policy', 'set', '--min-patients', '10']);
    await refused(ws, ['policy', 'set', '--min-patients', '5'], /k can only be raised \(it is 10\)/);
    await refused(ws, ['evaluate', '--min-patients', '5'], /k = 5 is below this workspace's k = 10/);
    // The .db holder edits the policy's JSON: its tag no longer matches, and nothing is released.
    editDb(ws, (db) => db.prepare("UPDATE policies SET json = replace(json, '\"minPatients\":10', '\"minPatients\":2')").run());
    await refused(ws, ['evaluate'], /release policy of this key set failed verification/);
    // Deleting the row falls back to the log's record of the change, never to a lower k.
    editDb(ws, (db) => db.prepare('DELETE FROM policies').run());
    expect((await cliJson<{ policy: { minPatients: number } }>(ws, ['policy'])).policy.minPatients).toBe(10);
  });

  it('records the k and the patients counted in every decryption entry', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'entries'));
    await cli(ws, ['evaluate', '--run', '1']);
    await cli(ws, ['stats', '--batches', '1']);
    using w = Workspace.open(ws);
    const entries = listAudit(w.db, { action: 'decrypt' });
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const e of entries) {
      expect(e.detail['minPatients']).toBe(5);
      expect(typeof e.detail['patients']).toBe('number');
    }
  });
});
