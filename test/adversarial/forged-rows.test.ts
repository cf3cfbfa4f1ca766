import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/workspace.ts';
import { attempt, cli, copyWorkspace, editDb, pilotWorkspace, refused } from './attacker.ts';

/*
 * Attack 4: rows that steer a computation, edited by whoever holds homopai.db. An identity-like model dated in
 * the future became the latest model and made `predict` print a raw systolic pressure; a run or the cohort
 * statistics (the scaler of encrypted training) could be pointed elsewhere the same way. Each row now carries an
 * HMAC tag under a key derived from the vault: an edited or inserted row is refused, by name, never used.
 */
describe('attack 4: forged models, runs and statistics', () => {
  const tmp = tempDir('homopai-attack-rows-');
  const base = join(tmp.dir, 'base');

  beforeAll(async () => {
    await pilotWorkspace(base);
    await cli(base, ['stats', '--batches', '1']);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('refuses an identity-like model inserted as the latest, instead of printing a raw vital', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'model'));
    editDb(ws, (db) => {
      const model = JSON.parse(db.prepare('SELECT json FROM models').pluck().get() as string) as Record<string, unknown> & { features: unknown[] };
      // Systolic pressure through unchanged: weight 1 on the raw value, every other weight 0, no scaling.
      const forged = {
        ...model,
        id: 'forged',
        createdAt: '2099-01-01T00:00:00.000Z',
        scaler: { mean: [0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1] },
        weights: [0, 1, 0, 0, 0],
        bias: 0,
      };
      db.prepare('INSERT INTO models (id, created_at, json) VALUES (?, ?, ?)').run('forged', forged.createdAt, JSON.stringify(forged));
    });
    await refused(ws, ['predict'], /model forged \(row \d+\) failed verification: it carries no integrity tag/);
    // Naming the honest model still works: the forgery is refused, not the workspace.
    const honest = await attempt(ws, ['predict', '--model', (await listModelIds(base))[0]!]);
    expect(honest.code).toBe(0);
  });

  it('refuses a registered model whose weights were edited in place', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'edited'));
    editDb(ws, (db) => {
      const row = db.prepare('SELECT rowid, json FROM models').get() as { rowid: number; json: string };
      const model = JSON.parse(row.json) as { weights: number[] };
      model.weights = model.weights.map((w, j) => (j === 1 ? 1 : w));
      db.prepare('UPDATE models SET json = ? WHERE rowid = ?').run(JSON.stringify(model), row.rowid);
    });
    await refused(ws, ['predict'], /failed verification: its integrity tag does not match/);
  });

  it('refuses a run pointed at another model or other batches', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'run'));
    editDb(ws, (db) => db.prepare("UPDATE prediction_runs SET batch_ids = '[1,1]'").run());
    await refused(ws, ['evaluate'], /prediction run 1 failed verification/);
  });

  it('refuses cohort statistics edited to steer encrypted training’s scaler', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'stats'));
    editDb(ws, (db) => {
      const stats = JSON.parse(db.prepare('SELECT json FROM cohort_stats').pluck().get() as string) as { features: { mean: number }[] };
      stats.features[0]!.mean += 1;
      db.prepare('UPDATE cohort_stats SET json = ?').run(JSON.stringify(stats));
    });
    await refused(ws, ['train', '--encrypted', '--batches', '1', '--epochs', '1'], /cohort statistics \d+ failed verification/);
  });
});

async function listModelIds(dir: string): Promise<string[]> {
  let ids: string[] = [];
  editDb(dir, (db) => (ids = db.prepare('SELECT id FROM models ORDER BY rowid').pluck().all() as string[]));
  return ids;
}
