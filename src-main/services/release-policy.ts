import type { PrivacyStatus, ReleasePolicy } from '../../src-preload/contract.ts';
import { ReleasePolicy as ReleasePolicySchema } from '../../src-preload/contract.ts';
import { epsilonSpent, latestDetail, privacyLedger } from '../audit/log.ts';
import { getPolicyRow, putPolicyRow } from '../store/policies.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';

/*
 * The workspace's release policy. It can only be made stricter: k raised, the cap on models per batch lowered,
 * differential privacy switched on, its per-release epsilon and total budget lowered. A command line can raise
 * k for one command, never lower it.
 *
 * Where it lives: a tagged row (the .db holder cannot edit it) and, with every change, an entry in the activity
 * log (which the .db holder cannot truncate or rewrite unseen, audit/anchor.ts). Deleting the row therefore
 * lowers nothing: the policy in force is the strictest of the row, the last logged change and the defaults.
 */

export const DEFAULT_POLICY: ReleasePolicy = { minPatients: 5, maxModelsPerBatch: 3, dp: null };

export class PolicyChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyChangeError';
  }
}

/** The stricter of two policies, rule by rule. */
function strictest(a: ReleasePolicy, b: ReleasePolicy): ReleasePolicy {
  const dp = a.dp && b.dp ? { epsilon: Math.min(a.dp.epsilon, b.dp.epsilon), budget: Math.min(a.dp.budget, b.dp.budget) } : (a.dp ?? b.dp);
  return { minPatients: Math.max(a.minPatients, b.minPatients), maxModelsPerBatch: Math.min(a.maxModelsPerBatch, b.maxModelsPerBatch), dp };
}

function parsed(value: unknown): ReleasePolicy | null {
  const r = ReleasePolicySchema.safeParse(value);
  return r.success ? r.data : null;
}

/** The policy a 'policy' entry of the activity log recorded. */
function logged(ws: Workspace): ReleasePolicy | null {
  const d = latestDetail(ws.db, 'policy');
  if (!d) return null;
  const dp = typeof d['epsilon'] === 'number' ? { epsilon: d['epsilon'], budget: d['budget'] } : null;
  return parsed({ minPatients: d['minPatients'], maxModelsPerBatch: d['maxModelsPerBatch'], dp });
}

/** The policy in force for the active key set (needs the integrity key, which verifies its row). */
export function releasePolicy(ws: Workspace): ReleasePolicy {
  const keySet = ws.requireKeySet();
  const row = getPolicyRow(ws.db, ws.rowMac(), keySet.fingerprint);
  const stored = row ? parsed(JSON.parse(row.json)) : null;
  return [stored, logged(ws)].reduce<ReleasePolicy>((p, q) => (q ? strictest(p, q) : p), DEFAULT_POLICY);
}

/** Why `next` would loosen `current`, or null when it only tightens (or keeps) every rule. */
export function loosening(current: ReleasePolicy, next: ReleasePolicy): string | null {
  if (next.minPatients < current.minPatients) return `k can only be raised (it is ${current.minPatients})`;
  if (next.maxModelsPerBatch > current.maxModelsPerBatch) return `the cap on models per batch can only be lowered (it is ${current.maxModelsPerBatch})`;
  if (current.dp && !next.dp) return 'differential privacy, once on, stays on';
  if (current.dp && next.dp && next.dp.epsilon > current.dp.epsilon) return `epsilon per release can only be lowered (it is ${current.dp.epsilon})`;
  if (current.dp && next.dp && next.dp.budget > current.dp.budget) return `the privacy budget can only be lowered (it is ${current.dp.budget})`;
  return null;
}

/** Makes the workspace's release policy stricter, and records the change in the same transaction. */
export async function tightenPolicy(caller: Caller, change: Partial<ReleasePolicy>): Promise<ReleasePolicy> {
  const { ws } = caller;
  const keySet = ws.requireKeySet();
  const current = releasePolicy(ws);
  const next = ReleasePolicySchema.parse({ ...current, ...change });
  const why = loosening(current, next);
  if (why) throw new PolicyChangeError(`refused: ${why}. The release policy can only be made stricter`);
  await ws.transaction(async () => {
    putPolicyRow(ws.db, ws.rowMac(), keySet.fingerprint, { json: JSON.stringify(next), updatedAt: new Date().toISOString() });
    caller.audit('policy', {
      minPatients: next.minPatients,
      maxModelsPerBatch: next.maxModelsPerBatch,
      epsilon: next.dp?.epsilon ?? null,
      budget: next.dp?.budget ?? null,
      previousMinPatients: current.minPatients,
    });
  });
  return next;
}

/**
 * The release rule in force and every release that spent privacy budget. Without the integrity key (an auditor)
 * the policy row cannot be verified: the policy shown is then the strictest the activity log records.
 */
export function privacyStatus(ws: Workspace): PrivacyStatus {
  const verified = ws.rowMacIfLoaded() !== null;
  const policy = verified ? releasePolicy(ws) : strictest(DEFAULT_POLICY, logged(ws) ?? DEFAULT_POLICY);
  return { policy, verified, epsilonSpent: epsilonSpent(ws.db), releases: privacyLedger(ws.db) };
}
