import { type AuditDetailValue, appendAudit } from '../audit/log.ts';
import type { CkksContext } from '../ckks/context.ts';
import { ColumnDecryptor } from '../ckks/decrypt.ts';
import type { PredictionRun } from '../store/predictions.ts';
import { labeledPatients, type TaggedCiphertext } from '../store/provenance.ts';
import { contextFor } from './contexts.ts';
import type { KeyHolder } from './keys.ts';
import type { Workspace } from './workspace.ts';

/*
 * The decryption policy: the key holder decrypts evaluator outputs (prediction vectors), and stored labels
 * only to compute aggregates over at least k labeled patients; a stored input is never decrypted for its own
 * sake. Every decryption goes through decryptUnderPolicy, which decides from the request before the secret
 * key is touched, checks the provenance of each ciphertext as it is decrypted, and records the outcome.
 */

/** k: aggregates over fewer labeled patients than this would come close to revealing individual labels. */
export const DEFAULT_MIN_PATIENTS = 5;

// The audit log holds ids and counts; a request naming thousands of ciphertexts is recorded by its first ids.
const AUDITED_IDS = 100;

export type DecryptionRequest =
  | { purpose: 'predictions'; run: PredictionRun }
  | { purpose: 'aggregates'; run: PredictionRun }
  | { purpose: 'stored-input'; requested: number; ciphertexts: readonly (TaggedCiphertext & { id: number })[] };

export type Refusal = 'stored-input' | 'too-few-patients' | 'not-permitted';

export class PolicyError extends Error {
  readonly reason: Refusal;

  constructor(reason: Refusal, message: string) {
    super(message);
    this.name = 'PolicyError';
    this.reason = reason;
  }
}

/** Where decisions are recorded; the app passes its session's, so entries join its one queue of writes. */
export type PolicyAudit = (action: 'decrypt' | 'decrypt-refused', detail: Record<string, AuditDetailValue>) => void | Promise<void>;

export interface PolicyOptions {
  /** k, the fewest labeled patients an aggregate may cover; DEFAULT_MIN_PATIENTS unless given. */
  minPatients?: number;
  /** By default, an entry in the workspace's audit log under the role 'key-holder'. */
  audit?: PolicyAudit;
}

export type Decrypt = (c: TaggedCiphertext) => Float64Array;

/** The provenance rule, applied to each ciphertext as it is decrypted. */
export function permits(request: DecryptionRequest, c: TaggedCiphertext): boolean {
  switch (request.purpose) {
    case 'predictions':
      return c.provenance === 'evaluator-output';
    case 'aggregates':
      return c.provenance === 'evaluator-output' || (c.provenance === 'input' && c.kind === 'label' && request.run.batchIds.includes(c.batchId));
    case 'stored-input':
      return false;
  }
}

function minPatients(options: PolicyOptions): number {
  const k = options.minPatients ?? DEFAULT_MIN_PATIENTS;
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError('the minimum number of patients for an aggregate must be a positive integer');
  return k;
}

function firstIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].slice(0, AUDITED_IDS);
}

/** The request's side of every audit entry: what was asked for and why, by id and count. */
function describe(request: DecryptionRequest): Record<string, AuditDetailValue> {
  if (request.purpose === 'stored-input') {
    return {
      purpose: request.purpose,
      requested: request.requested,
      found: request.ciphertexts.length,
      ciphertextIds: firstIds(request.ciphertexts.map((c) => c.id)),
      batchIds: firstIds(request.ciphertexts.map((c) => c.batchId)),
    };
  }
  return { purpose: request.purpose, runId: request.run.id, patients: request.run.patients };
}

/** Decides from the request alone, before any key is used: a refusal, or null to go ahead. */
function refusal(ws: Workspace, request: DecryptionRequest, k: number): { error: PolicyError; detail: Record<string, AuditDetailValue> } | null {
  if (request.purpose === 'stored-input') {
    const error = new PolicyError(
      'stored-input',
      'stored input ciphertexts are never decrypted: the key holder sees prediction vectors, and labels only as ' +
        `aggregates over at least ${k} patients`,
    );
    return { error, detail: {} };
  }
  if (request.purpose === 'aggregates') {
    const labeled = labeledPatients(ws.db, request.run.batchIds);
    if (labeled < k) {
      const error = new PolicyError(
        'too-few-patients',
        `run ${request.run.id} covers ${labeled} labeled patient(s); metrics are only computed over at least ${k}, ` +
          'so that none of them gives away one patient’s label',
      );
      return { error, detail: { labeled, minPatients: k } };
    }
  }
  return null;
}

function decryptPermitted<T>(
  ctx: CkksContext,
  holder: KeyHolder,
  request: DecryptionRequest,
  work: (decrypt: Decrypt) => T,
): { result: T; ciphertexts: number } {
  using dec = new ColumnDecryptor(ctx, holder.secretKey());
  let ciphertexts = 0;
  const result = work((c) => {
    if (!permits(request, c)) {
      throw new PolicyError(
        'not-permitted',
        `the ${c.provenance} ${c.kind} ciphertext of batch ${c.batchId}, block ${c.block} may not be decrypted for ${request.purpose}`,
      );
    }
    ciphertexts++;
    return dec.decrypt(c.bytes, c.slots);
  });
  return { result, ciphertexts };
}

/**
 * Runs `work` with a decrypt function bound to the holder's secret key, if the policy allows the request.
 * A refusal is recorded ('decrypt-refused') and thrown as a PolicyError; a success is recorded ('decrypt')
 * before the result is returned, so nothing decrypted leaves unrecorded.
 */
export async function decryptUnderPolicy<T>(
  ws: Workspace,
  holder: KeyHolder,
  request: DecryptionRequest,
  options: PolicyOptions,
  work: (decrypt: Decrypt) => T,
): Promise<T> {
  const k = minPatients(options);
  const audit: PolicyAudit =
    options.audit ??
    ((action, detail) => {
      appendAudit(ws.db, { role: 'key-holder', action, detail });
    });
  const refused = refusal(ws, request, k);
  if (refused) {
    await audit('decrypt-refused', { ...describe(request), reason: refused.error.reason, ...refused.detail });
    throw refused.error;
  }
  const ctx = await contextFor(ws.requireKeySet().preset);
  let done: { result: T; ciphertexts: number };
  try {
    done = decryptPermitted(ctx, holder, request, work);
  } catch (e) {
    if (e instanceof PolicyError) await audit('decrypt-refused', { ...describe(request), reason: e.reason });
    throw e;
  }
  await audit('decrypt', { ...describe(request), ciphertexts: done.ciphertexts });
  return done.result;
}
