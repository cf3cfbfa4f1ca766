import type { EncryptionKey } from '../ckks/encrypt.ts';
import type { EncryptedLrPlan } from '../circuits/inference.ts';

/**
 * What a CKKS worker thread does. An evaluator is given public material only (relinearization keys and the
 * public plan); it has no message that could carry a secret key, and refuses one if it is sent anyway. An
 * encryptor may hold the key holder's secret key for seeded symmetric encryption, until told to forget it.
 */
export type WorkerRole = 'encryptor' | 'evaluator';

export type WorkerRequest =
  | { id: number; op: 'load-encryption-key'; preset: string; keyId: string; key: EncryptionKey }
  | { id: number; op: 'load-evaluation-keys'; preset: string; keyId: string; relinKeys: Uint8Array }
  | { id: number; op: 'encrypt'; keyId: string; columns: Float64Array[] }
  | { id: number; op: 'evaluate'; keyId: string; features: Uint8Array[]; plan: EncryptedLrPlan }
  /** Untrusted ciphertexts (a hospital's bundle): loaded here, never in the main thread, and checked fresh. */
  | { id: number; op: 'check-fresh'; preset: string; ciphertexts: Uint8Array[]; names: string[] }
  | { id: number; op: 'forget'; keyId: string }
  | { id: number; op: 'heap' }
  | { id: number; op: 'held' };

/** What each operation answers: the pool's calls are typed by it, no cast between request and result. */
export interface WorkerResults {
  'load-encryption-key': null;
  'load-evaluation-keys': null;
  encrypt: Uint8Array[];
  evaluate: { bytes: Uint8Array; level: number };
  'check-fresh': null;
  forget: null;
  heap: number;
  /** Ids of the keys the thread holds now: how a test sees, from outside, that a secret key was forgotten. */
  held: string[];
}

export type WorkerOp = WorkerRequest['op'];
export type RequestOf<Op extends WorkerOp> = Extract<WorkerRequest, { op: Op }>;
export type WorkerResult = WorkerResults[WorkerOp];

export type WorkerResponse =
  | { id: number; ok: true; result: WorkerResult }
  | { id: number; ok: false; error: { name: string; message: string } };
