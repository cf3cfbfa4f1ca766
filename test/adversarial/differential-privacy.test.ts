import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation, PrivacyStatus } from '../../src-preload/contract.ts';
import { tempDir } from '../helpers/workspace.ts';
import { cli, cliJson, pilotWorkspace, refused } from './attacker.ts';

/*
 * Differential privacy as a workspace option beyond the release rule: every aggregate release carries Laplace
 * noise calibrated to what one patient can change (counts by 1; a feature's total by its validated range) and
 * spends epsilon from the workspace's budget, recorded in the activity log (the privacy ledger). The attacker
 * here repeats a release to average the noise away: the budget refuses the release that would exceed it.
 */
interface Stats {
  features: { name: string; mean: number }[];
}

describe('differential privacy: noise on every aggregate, a budget the ledger enforces', () => {
  const tmp = tempDir('homopai-attack-dp-');
  const ws = join(tmp.dir, 'ws');

  beforeAll(async () => {
    await pilotWorkspace(ws);
    await cli(ws, ['policy', 'set', '--epsilon', '1', '--budget', '5']);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('adds fresh noise to each release, spends epsilon per release, and refuses what would exceed the budget', async () => {
    // Statistics are two releases (the per-feature totals, then the at-risk count): 2 of the 5.
    const first = await cliJson<Stats>(ws, ['stats', '--batches', '1']);
    const e = await cliJson<Evaluation>(ws, ['evaluate']);
    expect(e.release.epsilon).toBe(1);
    // Fixed bins (their edges must not depend on the data), noisy counts.
    expect(e.byClass.map((b) => [b.lo, b.hi])).toEqual(Array.from({ length: 10 }, (_, i) => [i / 10, (i + 1) / 10]));
    const second = await cliJson<Stats>(ws, ['stats', '--batches', '1']);
    // Averaging repeated releases is how noise is removed: each draw is fresh ...
    expect(second.features.map((f) => f.mean)).not.toEqual(first.features.map((f) => f.mean));
    // ... and the budget (5 = 2 + 1 + 2) allows no further release.
    await refused(ws, ['stats', '--batches', '1'], /the privacy budget is spent: 5\.00 of 5 used, and this release needs 1/);
    await refused(ws, ['evaluate'], /the privacy budget is spent/);

    const ledger = await cliJson<PrivacyStatus>(ws, ['policy']);
    expect(ledger.epsilonSpent).toBe(5);
    expect(ledger.releases.map((r) => r.purpose)).toEqual(['cohort-totals', 'cohort-totals', 'aggregates', 'cohort-totals', 'cohort-totals']);
  });

  it('cannot be switched off, nor its budget raised', async () => {
    await refused(ws, ['policy', 'set', '--epsilon', '2'], /epsilon per release can only be lowered \(it is 1\)/);
    await refused(ws, ['policy', 'set', '--budget', '50'], /the privacy budget can only be lowered \(it is 5\)/);
  });
});
