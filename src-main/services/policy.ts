import type { DecryptDetail } from '../audit/actions.ts';
import type { CkksContext } from '../ckks/context.ts';
import { ColumnDecryptor } from '../ckks/decrypt.ts';
import type { PredictionRun } from '../store/predictions.ts';
import { labeledPatients, type StoredTagged, type TaggedCiphertext } from './provenance.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { KeyHolder } from './key-sets.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';

/*
 * The decryption policy: the key holder decrypts evaluator outputs (prediction vectors, cohort totals), stored
 * labels only to compute aggregates, and every aggregate only over at least k patients; a stored input is
 * never decrypted for its own sake. Every decryption goes through decryptUnderPolicy, which decides from the request before the secret
 * key is touched, checks the provenance of each ciphertext as it is decrypted, and records the outcome.
 */

/** k: aggregates over fewer labeled patients than this would come close to revealing individual labels. */
export const DEFAULT_MIN_PATIENTS = 5;

// The audit log holds ids and counts; a request naming thousands of ciphertexts is recorded by its first ids.
const AUDITED_IDS = 100;

/** What a cohort total is decrypted for; each total sums over every patient of the cohort. */
export type CohortTotals = 'cohort-statistics' | 'at-risk-count' | 'aggregated-gradient';

export type DecryptionRequest =
  | { purpose: 'predictions'; run: PredictionRun }
  | { purpose: 'aggregates'; run: PredictionRun }
  | { purpose: 'cohort-totals'; what: CohortTotals; batchIds: readonly number[]; patients: number; epoch?: number }
  /** Metrics of the model being trained, over its training cohort: predictions and labels in, aggregates out. */
  | { purpose: 'training-metrics'; batchIds: readonly number[]; patients: number; epoch: number }
  | { purpose: 'stored-input'; requested: number; ciphertexts: readonly (StoredTagged & { id: number })[] };

export type Refusal = 'stored-input' | 'too-few-patients' | 'not-permitted';

export class PolicyError extends Error {
  readonly reason: Refusal;

  constructor(reason: Refusal, message: string) {
    super(message);
    this.name = 'PolicyError';
    this.reason = reason;
  }
}

export type Decrypt = (c: TaggedCiphertext) => Float64Array;

/**
 * The pre-check counts patients from the store's metadata; an aggregate built from verified blocks checks
 * its own count too, so patient rows added where no ciphertext vouches for them cannot lift it over k.
 */
export function requireCovered(labeled: number, k: number, what: string): void {
  if (labeled >= k) return;
  throw new PolicyError(
    'too-few-patients',
    `${what} covers ${labeled} verified labeled patient(s); metrics are only computed over at least ${k}, so that none of them gives away one patient’s label`,
  );
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

/** k for this caller. */
export function minPatients(caller: Pick<Caller, 'minPatients'>): number {
  const k = caller.minPatients ?? DEFAULT_MIN_PATIENTS;
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError('the minimum number of patients for an aggregate must be a positive integer');
  return k;
}

function firstIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].slice(0, AUDITED_IDS);
}

/** The request's side of every audit entry: what was asked for and why, by id and count. */
function describe(request: DecryptionRequest, k: number): DecryptDetail {
  if (request.purpose === 'stored-input') {
    return {
      purpose: request.purpose,
      minPatients: k,
      requested: request.requested,
      found: request.ciphertexts.length,
      ciphertextIds: firstIds(request.ciphertexts.map((c) => c.id)),
      batchIds: firstIds(request.ciphertexts.map((c) => c.batchId)),
    };
  }
  if (request.purpose === 'cohort-totals') {
    const { purpose, what, batchIds, patients, epoch } = request;
    return { purpose, what, batchIds: firstIds(batchIds), patients, minPatients: k, epoch };
  }
  if (request.purpose === 'training-metrics') {
    return { purpose: request.purpose, batchIds: firstIds(request.batchIds), patients: request.patients, minPatients: k, epoch: request.epoch };
  }
  return { purpose: request.purpose, runId: request.run.id, patients: request.run.patients, minPatients: k };
}

/** Decides from the request alone, before any key is used: a refusal, or null to go ahead. */
function refusal(ws: Workspace, request: DecryptionRequest, k: number): { error: PolicyError; detail: Partial<DecryptDetail> } | null {
  if (request.purpose === 'stored-input') {
    const error = new PolicyError(
      'stored-input',
      'stored input ciphertexts are never decrypted: the key holder sees prediction vectors, and labels only as ' +
        `aggregates over at least ${k} patients`,
    );
    return { error, detail: {} };
  }
  if (request.purpose === 'aggregates' || request.purpose === 'training-metrics') {
    const batchIds = request.purpose === 'aggregates' ? request.run.batchIds : request.batchIds;
    const labeled = labeledPatients(ws.db, batchIds);
    if (labeled < k) {
      const what = request.purpose === 'aggregates' ? `run ${request.run.id}` : `the training cohort (batches ${batchIds.join(', ')})`;
      const error = new PolicyError(
        'too-few-patients',
        `${what} covers ${labeled} labeled patient(s); metrics are only computed over at least ${k}, ` +
          'so that none of them gives away one patient’s label',
      );
      return { error, detail: { patients: labeled } };
    }
  }
  if (request.purpose === 'cohort-totals' && request.patients < k) {
    const error = new PolicyError(
      'too-few-patients',
      `the ${request.what} would cover ${request.patients} patient(s); aggregates are only decrypted over at least ${k}, ` +
        'so that none of them gives away one patient',
    );
    return { error, detail: {} };
  }
  return null;
}

function describeCiphertext(c: TaggedCiphertext): string {
  return c.kind === 'cohort-total' ? 'cohort total' : `${c.provenance} ${c.kind} ciphertext of batch ${c.batchId}, block ${c.block}`;
}

async function decryptPermitted<T>(
  ctx: CkksContext,
  holder: KeyHolder,
  request: DecryptionRequest,
  counted: { ciphertexts: number },
  k: number,
  work: (decrypt: Decrypt, k: number) => T | Promise<T>,
): Promise<T> {
  using dec = new ColumnDecryptor(ctx, holder.secretKey());
  return await work((c) => {
    if (!permits(request, c)) {
      throw new PolicyError('not-permitted', `the ${describeCiphertext(c)} may not be decrypted for ${request.purpose}`);
    }
    counted.ciphertexts++;
    return dec.decrypt(c.bytes, c.slots);
  }, k);
}

/**
 * Runs `work` with a decrypt function bound to the holder's secret key, if the policy allows the request.
 * A refusal is recorded ('decrypt-refused') and thrown as a PolicyError; a success is recorded ('decrypt')
 * before the result is returned, so nothing decrypted leaves unrecorded. Work that fails (or is cancelled)
 * after decrypting something is recorded too, as incomplete.
 */
export async function decryptUnderPolicy<T>(
  caller: Caller,
  holder: KeyHolder,
  request: DecryptionRequest,
  work: (decrypt: Decrypt, k: number) => T | Promise<T>,
): Promise<T> {
  const { ws, audit } = caller;
  const k = minPatients(caller);
  const refused = refusal(ws, request, k);
  if (refused) {
    audit('decrypt-refused', { ...describe(request, k), reason: refused.error.reason, ...refused.detail });
    throw refused.error;
  }
  const ctx = await contextFor(ws.requireKeySet().preset);
  const counted = { ciphertexts: 0 };
  let result: T;
  try {
    result = await decryptPermitted(ctx, holder, request, counted, k, work);
  } catch (e) {
    if (e instanceof PolicyError) audit('decrypt-refused', { ...describe(request, k), reason: e.reason });
    if (counted.ciphertexts > 0) audit('decrypt', { ...describe(request, k), ciphertexts: counted.ciphertexts, completed: false });
    throw e;
  }
  audit('decrypt', { ...describe(request, k), ciphertexts: counted.ciphertexts });
  return result;
}
