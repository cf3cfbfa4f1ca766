import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../helpers/cli.ts';
import { tempDir } from '../helpers/workspace.ts';
import { attempt, cli, copyWorkspace, pilotRows, refused } from './attacker.ts';

/*
 * Attack 6: a crafted model whose output inverts to one vital. Trained on a CSV in which only temperature varies,
 * the model puts all its weight on temperature; each patient's probability is then a monotone function of their
 * temperature, and the key holder reads it back (logit = w (t - mean) / std + b). Per-patient predictions are
 * refused for a model whose heaviest feature carries more than 90% of the weight, and for a single-feature one;
 * the cap on distinct models per batch bounds how many linear views of the same patients a key holder collects.
 */
describe('attack 6: a model invertible into one vital', () => {
  const tmp = tempDir('homopai-attack-invert-');
  const base = join(tmp.dir, 'base');
  const crafted = join(tmp.dir, 'only-temperature.csv');

  beforeAll(async () => {
    const [header, ...rows] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    // Every vital but temperature set to the same value: only temperature can carry weight.
    writeFileSync(crafted, `${[header, ...rows.map((r) => r.split(',').map((c, j) => (j >= 3 && j <= 6 ? ['120', '80', '16', '97'][j - 3] : c)).join(','))].join('\n')}\n`);
    await cli(base, ['init']);
    await cli(base, ['import', SAMPLE]);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('refuses per-patient output of a model trained where only temperature varies', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'crafted'));
    await cli(ws, ['train', crafted]);
    await refused(ws, ['predict'], /puts 100% of its weight on temperature: its per-patient output would give away each patient's temperature\b/);
  });

  it('caps the distinct models applied to one batch', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'cap'));
    // Three legitimate models (trained on different rows), each one more linear view of batch 1's patients.
    for (const [i, rows] of [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [0, 3, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]].entries()) {
      await cli(ws, ['train', pilotRows(join(tmp.dir, `part-${i}.csv`), rows)]);
      expect((await attempt(ws, ['predict'])).code).toBe(0);
    }
    await cli(ws, ['train', SAMPLE]);
    await refused(ws, ['predict'], /batch 1 has already been predicted with 3 distinct model\(s\), the workspace's cap/);
  });
});
