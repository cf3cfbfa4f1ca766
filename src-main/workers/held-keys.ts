import { ColumnEncryptor, type EncryptionKey } from '../ckks/encrypt.ts';
import { EvaluationKeys } from '../ckks/keys.ts';
import type { CkksContext } from '../ckks/context.ts';
import type { WorkerRole } from './protocol.ts';

/**
 * The keys one CKKS worker thread holds, by key id, until told to forget them. An encryptor's key may carry the
 * key holder's secret key (seeded symmetric encryption), so forgetting frees its SEAL objects at once rather
 * than leaving them to the garbage collector; an evaluator never takes an encryption key at all.
 */
export class HeldKeys {
  readonly role: WorkerRole;
  private readonly encryptors = new Map<string, ColumnEncryptor>();
  private readonly evaluators = new Map<string, { preset: string; keys: EvaluationKeys }>();

  constructor(role: WorkerRole) {
    this.role = role;
  }

  loadEncryptionKey(keyId: string, ctx: CkksContext, key: EncryptionKey): void {
    if (this.role !== 'encryptor') throw new Error('an evaluator worker never takes an encryption key');
    this.forget(keyId);
    this.encryptors.set(keyId, new ColumnEncryptor(ctx, key));
  }

  loadEvaluationKeys(keyId: string, preset: string, ctx: CkksContext, relinKeys: Uint8Array): void {
    this.forget(keyId);
    this.evaluators.set(keyId, { preset, keys: new EvaluationKeys(ctx, relinKeys, null) });
  }

  encryptor(keyId: string): ColumnEncryptor {
    return need(this.encryptors.get(keyId), `encryption key ${keyId}`);
  }

  evaluator(keyId: string): { preset: string; keys: EvaluationKeys } {
    return need(this.evaluators.get(keyId), `evaluation keys ${keyId}`);
  }

  forget(keyId: string): void {
    this.encryptors.get(keyId)?.[Symbol.dispose]();
    this.encryptors.delete(keyId);
    this.evaluators.get(keyId)?.keys[Symbol.dispose]();
    this.evaluators.delete(keyId);
  }

  /** Ids of every key held now: how a test sees, from outside the thread, that a secret key was forgotten. */
  held(): string[] {
    return [...this.encryptors.keys(), ...this.evaluators.keys()];
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`worker has no ${what} loaded`);
  return value;
}
