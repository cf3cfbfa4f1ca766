import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src-main/audit/log.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { SAMPLE } from '../helpers/cli.ts';
import { tempDir } from '../helpers/workspace.ts';
import { attempt, cli, cliJson, copyWorkspace, refused } from './attacker.ts';

/*
 * Attack 1, differencing: import the 19-patient pilot (batch 1) and a CSV holding one patient (batch 2); release
 * the same aggregate over {1} and over {1, 2}; n2 x mean(1, 2) - n1 x mean(1) is the victim's record, and the
 * difference of the at-risk counts is its label. Every aggregate route is tried: statistics, a run's metrics,
 * encrypted training. The release rule makes the unit of selection (a batch) hold at least k patients, so the
 * one-patient batch takes part in none, and the difference of any two releases covers at least k patients.
 */

const HEADER = 'hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,at_risk';
const VICTIM = [38.3, 141, 93, 22, 94];

interface Stats {
  patients: number;
  positives: number | null;
  features: { name: string; mean: number }[];
}

describe('attack 1: differencing two releases', () => {
  const tmp = tempDir('homopai-attack-diff-');
  const base = join(tmp.dir, 'base');

  beforeAll(async () => {
    await cli(base, ['init']);
    await cli(base, ['import', SAMPLE]);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('a one-patient batch takes part in no aggregate: statistics, metrics and training over it are refused', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'one'));
    const victim = join(tmp.dir, 'victim.csv');
    writeFileSync(victim, `${HEADER}\nH-EAST,V-0001,${VICTIM.join(',')},1\n`);
    await cli(ws, ['import', victim]);

    const alone = await cliJson<Stats>(ws, ['stats', '--batches', '1']);
    expect(alone.patients).toBe(19);
    // The second release the subtraction needs is refused, naming the batch and the rule.
    await refused(ws, ['stats', '--batches', '1,2'], /batch 2 holds 1 patient\(s\), fewer than k = 5/);
    // `all` leaves the small batch out rather than including it: the same release as {1}, nothing new.
    const all = await attempt(ws, ['stats', '--json']);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/batch 2 \(1 patients\) is left out/);
    expect((JSON.parse(all.stdout) as Stats).features).toEqual(alone.features);

    // Metrics: a run over both batches can be predicted (per-patient output), never evaluated.
    await cli(ws, ['train', SAMPLE]);
    await cli(ws, ['predict', '--batches', '1,2']);
    await refused(ws, ['evaluate'], /batch 2 holds 1 labeled patient\(s\), fewer than k = 5/);
    // Training gradients and training metrics over the pair: refused before any decryption.
    await refused(ws, ['train', '--encrypted', '--batches', '1,2', '--epochs', '1'], /batch 2 holds 1 patient\(s\), fewer than k = 5/);

    using w = Workspace.open(ws);
    const refusals = listAudit(w.db, { action: 'decrypt-refused' });
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    for (const r of refusals) expect(r.detail).toMatchObject({ reason: 'too-few-patients', minPatients: 5 });
  });

  it('with the victim hidden among k patients, the subtraction yields their mean, not the victim', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'five'));
    const five = join(tmp.dir, 'five.csv');
    const others = ['36.6,118,76,14,98,0', '37.0,125,80,15,97,0', '36.8,110,70,13,99,0', '37.4,132,86,17,96,0'];
    writeFileSync(five, `${HEADER}\nH-EAST,V-0001,${VICTIM.join(',')},1\n${others.map((o, i) => `H-EAST,O-${i},${o}`).join('\n')}\n`);
    await cli(ws, ['import', five]);
    const one = await cliJson<Stats>(ws, ['stats', '--batches', '1']);
    const both = await cliJson<Stats>(ws, ['stats', '--batches', '1,2']);
    expect(both.patients).toBe(24);
    // The attacker's arithmetic, done exactly as in the issue.
    const recovered = one.features.map((f, j) => both.features[j]!.mean * both.patients - f.mean * one.patients);
    const perPatient = recovered.map((total) => total / 5);
    // The difference is the five patients' total: divided by five it is their mean, which misses the victim's
    // temperature by more than 0.25 °C and its systolic pressure by more than 10 mmHg.
    expect(Math.abs(perPatient[0]! - VICTIM[0]!)).toBeGreaterThan(0.25);
    expect(Math.abs(perPatient[1]! - VICTIM[1]!)).toBeGreaterThan(10);
    // Taken as one patient's record, it is off by a factor of about five.
    expect(Math.abs(recovered[0]! - VICTIM[0]!)).toBeGreaterThan(100);
    // And the at-risk count of the pair releases the number of at-risk patients among the five, not a label.
    expect((both.positives ?? 0) - (one.positives ?? 0)).toBe(1);
  });
});
