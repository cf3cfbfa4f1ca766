import pkg from '../../package.json' with { type: 'json' };
import { checkAuditLog } from '../audit/anchor.ts';
import { currentUser, epsilonSpent, listAudit, privacyLedger } from '../audit/log.ts';
import { listBench } from './bench.ts';
import { type KeyHolder, keySetInfo } from './key-sets.ts';
import { PolicyError } from './policy.ts';
import { runEvaluation } from './evaluate.ts';
import { listModels } from './models.ts';
import { releasePolicy } from './release-policy.ts';
import type { Caller } from './caller.ts';
import type { Workspace } from '../store/workspace.ts';
import { getBatch, hospitalSummary, listBatches } from '../store/batches.ts';
import { listRuns } from '../store/predictions.ts';
import { type Report, type ReportEvaluation, ReportSchema } from '../reports/report-schema.ts';

export const APP_VERSION: string = pkg.version;

/** Bounds the report whatever the size of the log; the chain head still covers every entry. */
export const AUDIT_EXCERPT_LIMIT = 200;
const BENCH_HISTORY_LIMIT = 20;

export interface GatherOptions {
  /** The unlocked key holder; without one the evaluation is reported as not done. */
  holder?: KeyHolder | null;
  /** false: the role the report is made under may not decrypt; an unlocked app session says so, not "locked". */
  mayDecrypt?: boolean;
  role: string;
  /** Start of the audit period (ISO date or timestamp); the whole log when absent. */
  since?: string;
  now?: Date;
}

/**
 * The latest prediction run, evaluated against its encrypted labels when the key holder is unlocked. Labels
 * are decrypted inside evaluateRun and only aggregates come back.
 */
async function evaluation(caller: Caller, opts: GatherOptions): Promise<ReportEvaluation> {
  const { ws } = caller;
  const run = listRuns(ws.db, ws.rowMacIfLoaded())[0];
  const holder = opts.holder;
  if (!run) return { status: 'not-evaluated', reason: 'no-run', run: null };
  if (opts.mayDecrypt === false) return { status: 'not-evaluated', reason: 'role', run };
  if (!holder?.unlocked) return { status: 'not-evaluated', reason: 'locked', run };
  if (run.keyFingerprint !== holder.fingerprint) return { status: 'not-evaluated', reason: 'other-key-set', run };
  if (run.batchIds.every((id) => (getBatch(ws.db, id)?.labeledRows ?? 0) === 0)) {
    return { status: 'not-evaluated', reason: 'no-labels', run };
  }
  let e: Awaited<ReturnType<typeof runEvaluation>>;
  try {
    e = await runEvaluation(caller, holder, run.id);
  } catch (err) {
    // The refusal is already in the activity log; the report states it instead of failing whole.
    if (err instanceof PolicyError && err.reason === 'too-few-patients') return { status: 'not-evaluated', reason: 'too-few-patients', run };
    throw err;
  }
  const { runId: _, ...released } = e;
  return { status: 'evaluated', run, ...released };
}

function auditExcerpt(ws: Workspace, since: string | undefined): Report['audit'] {
  const entries = listAudit(ws.db, { since, limit: AUDIT_EXCERPT_LIMIT + 1 });
  const truncated = entries.length > AUDIT_EXCERPT_LIMIT;
  return {
    chain: checkAuditLog(ws.dir, ws.db, { mac: ws.rowMacIfLoaded() }),
    since: since ?? null,
    truncated,
    entries: entries.slice(truncated ? 1 : 0),
  };
}

/** Everything a report shows, read from the workspace (and, with an unlocked key holder, evaluated). */
export async function gatherReport(caller: Caller, opts: GatherOptions): Promise<Report> {
  const { ws } = caller;
  const hospitals = hospitalSummary(ws.db);
  const batches = listBatches(ws.db);
  const m = listModels(ws)[0] ?? null;
  const bench = listBench(ws).slice(0, BENCH_HISTORY_LIMIT);
  /*
   * Parsed on the way out: what is rendered and signed is exactly what the schema promises to readers, and
   * zod drops every field the schema does not name (key sizes, file names, ...) from the records passed in.
   */
  return ReportSchema.parse({
    format: 'homopai.report',
    version: 2,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    appVersion: APP_VERSION,
    generatedBy: { user: currentUser(), role: opts.role },
    keySet: keySetInfo(ws.requireKeySet()),
    data: {
      hospitals,
      batches: batches.map((b) => ({ ...b, features: b.features.length })),
      totals: {
        hospitals: hospitals.length,
        batches: batches.length,
        patients: batches.reduce((s, b) => s + b.rows, 0),
        labeled: batches.reduce((s, b) => s + b.labeledRows, 0),
      },
    },
    model: m && {
      id: m.id,
      createdAt: m.createdAt,
      features: m.features.map((f, j) => ({ name: f.name, unit: f.unit, mean: m.scaler.mean[j]!, std: m.scaler.std[j]!, weight: m.weights[j]! })),
      bias: m.bias,
      sigmoid: m.sigmoid,
      training: m.training,
    },
    evaluation: await evaluation(caller, opts),
    privacy: { policy: releasePolicy(ws), epsilonSpent: epsilonSpent(ws.db), releases: privacyLedger(ws.db) },
    benchmarks: { latest: bench[0] ?? null, history: bench },
    audit: auditExcerpt(ws, opts.since),
  });
}
