import type { ReleasePolicy } from '../../src-preload/contract.ts';
import type { DecryptDetail } from '../audit/actions.ts';
import { epsilonSpent } from '../audit/log.ts';
import type { CkksContext } from '../ckks/context.ts';
import { contextFor } from '../ckks/contexts.ts';
import { ColumnDecryptor } from '../ckks/decrypt.ts';
import { batchCounts } from '../store/batches.ts';
import type { PredictionRun } from '../store/predictions.ts';
import type { Caller } from './caller.ts';
import type { KeyHolder } from './key-sets.ts';
import { laplace } from './noise.ts';
import type { StoredTagged, TaggedCiphertext } from './provenance.ts';
import { releasePolicy } from './release-policy.ts';

/*
 * The decryption gate and the release rule. The key holder decrypts evaluator outputs (prediction vectors,
 * cohort totals), stored labels only to compute aggregates, and a stored input never for its own sake. Every
 * decryption goes through decryptUnderPolicy, which decides from the request before the secret key is touched,
 * checks the provenance of each ciphertext as it is decrypted, and records the outcome with the k it applied.
 *
 * The release rule (README): the unit of selection is the batch. A batch takes part in an aggregate only when it
 * holds at least k of the patients the aggregate counts (or none of them: a batch without labels adds nothing
 * to a label aggregate). Any two selections then differ by whole batches, so the difference of two releases is
 * itself an aggregate over at least k patients: no subtraction isolates one patient. With differential privacy
 * on, every aggregate release also spends epsilon from the workspace's budget and carries calibrated noise.
 */

// The audit log holds ids and counts; a request naming thousands of ciphertexts is recorded by its first ids.
const AUDITED_IDS = 100;

/** What a cohort total is decrypted for; each total sums over every patient of the cohort. */
export type CohortTotals = 'cohort-statistics' | 'at-risk-count' | 'aggregated-gradient';

export type DecryptionRequest =
  | { purpose: 'predictions'; run: PredictionRun }
  /** A run's metrics and curves against its batches' encrypted labels. */
  | { purpose: 'aggregates'; run: PredictionRun }
  | { purpose: 'cohort-totals'; what: CohortTotals; batchIds: readonly number[]; epoch?: number }
  /** Metrics of the model being trained, over its training cohort: predictions and labels in, aggregates out. */
  | { purpose: 'training-metrics'; batchIds: readonly number[]; epoch: number }
  | { purpose: 'stored-input'; requested: number; ciphertexts: readonly (StoredTagged & { id: number })[] };

export type Refusal = 'stored-input' | 'too-few-patients' | 'not-permitted' | 'below-policy' | 'budget';

export class PolicyError extends Error {
  readonly reason: Refusal;
  /** What the refusal was checked against, for its audit entry: k and the patients counted. */
  readonly counts: { minPatients?: number; patients?: number };

  constructor(reason: Refusal, message: string, counts: { minPatients?: number; patients?: number } = {}) {
    super(message);
    this.name = 'PolicyError';
    this.reason = reason;
    this.counts = counts;
  }
}

/** Which patients an aggregate counts: all of a batch's, or only its labeled ones. */
type Counted = 'patients' | 'labeled';

/** The requests the release rule applies to: aggregates over batches (predictions and stored inputs never reach it). */
type AggregateRequest = Extract<DecryptionRequest, { purpose: 'aggregates' | 'cohort-totals' | 'training-metrics' }>;

function counted(request: AggregateRequest): Counted[] {
  switch (request.purpose) {
    case 'aggregates':
      // Metrics over the labeled, and the distribution of every patient's score.
      return ['labeled', 'patients'];
    case 'cohort-totals':
      return request.what === 'cohort-statistics' ? ['patients'] : ['labeled'];
    case 'training-metrics':
      return ['labeled'];
  }
}

function batchesOf(request: AggregateRequest): readonly number[] {
  return request.purpose === 'aggregates' ? request.run.batchIds : request.batchIds;
}

/** k for this caller: the workspace's, or more when the command asked for more; never less. */
export function minPatients(caller: Caller, policy: ReleasePolicy = releasePolicy(caller.ws)): number {
  const asked = caller.minPatients;
  if (asked === undefined) return policy.minPatients;
  if (!Number.isSafeInteger(asked) || asked < 1) throw new RangeError('the minimum number of patients for an aggregate must be a positive integer');
  if (asked < policy.minPatients) {
    throw new PolicyError(
      'below-policy',
      `k = ${asked} is below this workspace's k = ${policy.minPatients}: a command can raise k, never lower it ` +
        '(the workspace’s own k can only be raised too: homopai policy set --min-patients K)',
      { minPatients: policy.minPatients },
    );
  }
  return asked;
}

/**
 * The check every aggregate makes on what it actually covered (verified blocks, not the patients table): each
 * batch holds none or at least k of the counted patients, and the total is at least k.
 */
export function requireUnits(counts: ReadonlyMap<number, number>, k: number, what: string, whom = 'labeled patient'): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [batchId, n] of counts) {
    if (n > 0 && n < k) {
      throw new PolicyError(
        'too-few-patients',
        `batch ${batchId} holds ${n} ${whom}(s), fewer than k = ${k}: a batch takes part in an aggregate only with at least k, ` +
          `so that no two releases differ by fewer than k patients. It stays stored, and its patients can still be predicted; ${what} was not computed`,
        { minPatients: k, patients: total },
      );
    }
  }
  if (total < k) {
    throw new PolicyError(
      'too-few-patients',
      `${what} covers ${total} verified ${whom}(s); aggregates are only computed over at least ${k}, so that none of them gives away one patient`,
      { minPatients: k, patients: total },
    );
  }
}

/** Whether counts meet the rule (requireUnits), without throwing. */
export function meetsUnits(counts: ReadonlyMap<number, number>, k: number): boolean {
  const values = [...counts.values()];
  return values.every((n) => n === 0 || n >= k) && values.reduce((a, b) => a + b, 0) >= k;
}

/** What the work of an aggregate release is given besides the decrypt function. */
export interface Release {
  k: number;
  /** Calibrated noise for this release, or null when differential privacy is off. */
  dp: { epsilon: number; laplace(sensitivity: number, share: number): number } | null;
}

/** The provenance rule, applied to each ciphertext as it is decrypted. */
export function permits(request: DecryptionRequest, c: TaggedCiphertext): boolean {
  switch (request.purpose) {
    case 'predictions':
      return c.provenance === 'evaluator-output' && c.kind === 'prediction';
    case 'aggregates':
      return (
        (c.provenance === 'evaluator-output' && c.kind === 'prediction') ||
        (c.provenance === 'input' && c.kind === 'label' && request.run.batchIds.includes(c.batchId))
      );
    case 'cohort-totals':
      return c.provenance === 'evaluator-output' && c.kind === 'cohort-total';
    case 'training-metrics':
      return (
        ((c.provenance === 'evaluator-output' && c.kind === 'prediction') || (c.provenance === 'input' && c.kind === 'label')) &&
        request.batchIds.includes(c.batchId)
      );
    case 'stored-input':
      return false;
  }
}

function firstIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].slice(0, AUDITED_IDS);
}

/** The request's side of every audit entry: what was asked for and why, by id and count, and the k applied. */
function describe(request: DecryptionRequest, k: number | undefined, patients: number | undefined): DecryptDetail {
  const base = { purpose: request.purpose, minPatients: k, patients };
  switch (request.purpose) {
    case 'stored-input':
      return {
        ...base,
        requested: request.requested,
        found: request.ciphertexts.length,
        ciphertextIds: firstIds(request.ciphertexts.map((c) => c.id)),
        batchIds: firstIds(request.ciphertexts.map((c) => c.batchId)),
      };
    case 'cohort-totals':
      return { ...base, what: request.what, batchIds: firstIds(request.batchIds), epoch: request.epoch };
    case 'training-metrics':
      return { ...base, batchIds: firstIds(request.batchIds), epoch: request.epoch };
    default:
      return { ...base, runId: request.run.id, batchIds: firstIds(request.run.batchIds) };
  }
}

interface Decision {
  k: number;
  /** The counted patients the request covers (from the store; the work re-checks what it verified). */
  patients: number;
  epsilon: number | null;
}

/** Decides from the request alone, before any key is used: throws the refusal, or says what applies. */
function decide(caller: Caller, request: DecryptionRequest): Decision {
  const { ws } = caller;
  const policy = releasePolicy(ws);
  const k = minPatients(caller, policy);
  if (request.purpose === 'stored-input') {
    throw new PolicyError(
      'stored-input',
      'stored input ciphertexts are never decrypted: the key holder sees prediction vectors, and labels only as ' +
        `aggregates over at least ${k} patients`,
      { minPatients: k },
    );
  }
  if (request.purpose === 'predictions') return { k, patients: request.run.patients, epsilon: null };
  const counts = batchCounts(ws.db, batchesOf(request));
  const what = request.purpose === 'aggregates' ? `run ${request.run.id}` : request.purpose === 'training-metrics' ? 'the training cohort' : `the ${request.what}`;
  // The first kind counted (labeled patients, for label aggregates) is the count the entry records.
  const totals = counted(request).map((whom) => {
    const per = new Map([...counts].map(([id, c]) => [id, whom === 'labeled' ? c.labeled : c.patients]));
    requireUnits(per, k, what, whom === 'labeled' ? 'labeled patient' : 'patient');
    return [...per.values()].reduce((a, b) => a + b, 0);
  });
  const patients = totals[0]!;
  const { dp } = policy;
  if (dp) {
    const spent = epsilonSpent(ws.db);
    if (exceedsBudget(spent + dp.epsilon, dp.budget)) {
      throw new PolicyError(
        'budget',
        `the privacy budget is spent: ${spent.toFixed(2)} of ${dp.budget} used, and this release needs ${dp.epsilon}; ` +
          'no further aggregate can be released under this workspace’s differential-privacy setting',
        { minPatients: k },
      );
    }
  }
  return { k, patients, epsilon: dp?.epsilon ?? null };
}

/*
 * Compared in millionths: epsilons are sums of decimal settings (0.1 + 0.2), and a release that exactly fills the
 * budget must pass however the floating-point sum rounds.
 */
function exceedsBudget(total: number, budget: number): boolean {
  return Math.round(total * 1e6) > Math.round(budget * 1e6);
}

function describeCiphertext(c: TaggedCiphertext): string {
  return c.kind === 'cohort-total' ? 'cohort total' : `${c.provenance} ${c.kind} ciphertext of batch ${c.batchId}, block ${c.block}`;
}

export type Decrypt = (c: TaggedCiphertext) => Float64Array;

async function decryptPermitted<T>(
  ctx: CkksContext,
  holder: KeyHolder,
  request: DecryptionRequest,
  counted: { ciphertexts: number },
  release: Release,
  work: (decrypt: Decrypt, release: Release) => T | Promise<T>,
): Promise<T> {
  using dec = new ColumnDecryptor(ctx, holder.secretKey());
  return await work((c) => {
    if (!permits(request, c)) {
      throw new PolicyError('not-permitted', `the ${describeCiphertext(c)} may not be decrypted for ${request.purpose}`);
    }
    counted.ciphertexts++;
    return dec.decrypt(c.bytes, c.slots);
  }, release);
}

/**
 * Runs `work` with a decrypt function bound to the holder's secret key, if the policy allows the request.
 * A refusal is recorded ('decrypt-refused') and thrown as a PolicyError; a success is recorded ('decrypt',
 * with the k applied, the patients covered and any epsilon spent) before the result is returned, so nothing
 * decrypted leaves unrecorded. Work that fails (or is cancelled) after decrypting something is recorded too,
 * as incomplete, and its epsilon counts as spent.
 */
export async function decryptUnderPolicy<T>(
  caller: Caller,
  holder: KeyHolder,
  request: DecryptionRequest,
  work: (decrypt: Decrypt, release: Release) => T | Promise<T>,
): Promise<T> {
  const { ws, audit } = caller;
  let decision: Decision;
  try {
    decision = decide(caller, request);
  } catch (e) {
    // Every refusal decide() makes carries the k it applied (the workspace's, for a k lowered below it).
    if (e instanceof PolicyError) audit('decrypt-refused', { ...describe(request, undefined, undefined), reason: e.reason, ...e.counts });
    throw e;
  }
  const { k, patients, epsilon } = decision;
  const release: Release = {
    k,
    dp: epsilon === null ? null : { epsilon, laplace: (sensitivity, share) => laplace(sensitivity / (epsilon * share)) },
  };
  const spent = epsilon === null ? {} : { epsilon };
  const ctx = await contextFor(ws.requireKeySet().preset);
  const counted = { ciphertexts: 0 };
  let result: T;
  try {
    result = await decryptPermitted(ctx, holder, request, counted, release, work);
  } catch (e) {
    if (e instanceof PolicyError) audit('decrypt-refused', { ...describe(request, k, patients), reason: e.reason, ...e.counts });
    if (counted.ciphertexts > 0) audit('decrypt', { ...describe(request, k, patients), ...spent, ciphertexts: counted.ciphertexts, completed: false });
    throw e;
  }
  audit('decrypt', { ...describe(request, k, patients), ...spent, ciphertexts: counted.ciphertexts });
  return result;
}
