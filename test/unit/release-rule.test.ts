import { describe, expect, it } from 'vitest';
import { meetsUnits, minPatients, PolicyError, requireUnits } from '../../src-main/services/policy.ts';
import { DEFAULT_POLICY } from '../../src-main/services/release-policy.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { caller } from '../helpers/caller.ts';
import { tempDir } from '../helpers/workspace.ts';

/* The release rule's arithmetic at its edges: exactly k passes, k - 1 does not, whole batches or none. */
describe('the release rule', () => {
  const counts = (...n: number[]): Map<number, number> => new Map(n.map((v, i) => [i + 1, v]));
  const refusal = (fn: () => void): PolicyError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      return e as PolicyError;
    }
    return expect.unreachable('the release rule should have refused');
  };

  it('lets a batch take part with exactly k counted patients, or none, and never with 1 to k - 1', () => {
    for (const ok of [counts(5), counts(5, 0), counts(0, 5, 7), counts(9, 5)]) {
      expect(() => requireUnits(ok, 5, 'the run')).not.toThrow();
      expect(meetsUnits(ok, 5)).toBe(true);
    }
    const small = refusal(() => requireUnits(counts(7, 4), 5, 'the run', 'patient'));
    expect(small).toMatchObject({ reason: 'too-few-patients', counts: { minPatients: 5, patients: 11 } });
    expect(small.message).toMatch(/^batch 2 holds 4 patient\(s\), fewer than k = 5: .*the run was not computed$/);
    expect(meetsUnits(counts(7, 4), 5)).toBe(false);
    expect(meetsUnits(counts(7, 1), 5)).toBe(false);
  });

  it('needs k counted patients in all, so a selection of empty batches releases nothing', () => {
    const none = refusal(() => requireUnits(counts(0, 0), 5, 'the run'));
    expect(none).toMatchObject({ reason: 'too-few-patients', counts: { minPatients: 5, patients: 0 } });
    expect(none.message).toBe('the run covers 0 verified labeled patient(s); aggregates are only computed over at least 5, so that none of them gives away one patient');
    expect(meetsUnits(counts(0, 0), 5)).toBe(false);
    expect(meetsUnits(new Map(), 1)).toBe(false);
    expect(meetsUnits(counts(1), 1)).toBe(true);
  });

  it("takes the workspace's k, or a higher one a command asks for, and refuses a lower or malformed one", () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const policy = { ...DEFAULT_POLICY, minPatients: 10 };
    expect(minPatients(caller(ws), policy)).toBe(10);
    expect(minPatients(caller(ws, { minPatients: 10 }), policy)).toBe(10);
    expect(minPatients(caller(ws, { minPatients: 12 }), policy)).toBe(12);
    const lowered = refusal(() => minPatients(caller(ws, { minPatients: 9 }), policy));
    expect(lowered.reason).toBe('below-policy');
    expect(lowered.message).toMatch(/^k = 9 is below this workspace's k = 10: a command can raise k, never lower it/);
    for (const bad of [0, -3, 2.5, Number.NaN]) {
      expect(() => minPatients(caller(ws, { minPatients: bad }), policy)).toThrow(/must be a positive integer/);
    }
  });
});
