import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src-main/ckks/contexts.ts';
import { generateKeySet } from '../../src-main/ckks/keys.ts';
import { HeldKeys } from '../../src-main/workers/held-keys.ts';

/* The key cache of one CKKS worker thread, run in this thread: what it holds, what it refuses, what it frees. */
describe("a worker's held keys", async () => {
  const ctx = await contextFor('standard');
  const ks = generateKeySet(ctx);
  const secretKeyed = { mode: 'seeded-symmetric', publicKey: ks.publicKey, secretKey: ks.secretKey } as const;

  it('holds an encryption key until told to forget it, then frees its SEAL objects and has nothing to encrypt with', () => {
    const keys = new HeldKeys('encryptor');
    keys.loadEncryptionKey('k1', ctx, secretKeyed);
    keys.loadEvaluationKeys('k2', 'standard', ctx, ks.relinKeys);
    expect(keys.held()).toEqual(['k1', 'k2']);
    const encryptor = keys.encryptor('k1');
    expect(encryptor.encrypt([1, 2, 3]).length).toBeGreaterThan(0);
    expect(keys.evaluator('k2').preset).toBe('standard');

    keys.forget('k1');
    expect(keys.held()).toEqual(['k2']);
    expect(() => keys.encryptor('k1')).toThrow(/worker has no encryption key k1 loaded/);
    keys.forget('k2');
    expect(keys.held()).toEqual([]);
    expect(() => keys.evaluator('k2')).toThrow(/worker has no evaluation keys k2 loaded/);
    // Deleted, not merely dropped from the map: the secret-keyed SEAL encryptor refuses to run again.
    expect(() => encryptor.encrypt([1, 2, 3])).toThrow();
  });

  it('forgets one key id and keeps the others', () => {
    const keys = new HeldKeys('encryptor');
    keys.loadEncryptionKey('old', ctx, secretKeyed);
    keys.loadEncryptionKey('new', ctx, { mode: 'public-key', publicKey: ks.publicKey });
    keys.forget('old');
    expect(keys.held()).toEqual(['new']);
    expect(keys.encryptor('new').mode).toBe('public-key');
    keys.forget('new');
  });

  it('frees the key a reload replaces', () => {
    const keys = new HeldKeys('encryptor');
    keys.loadEncryptionKey('k', ctx, secretKeyed);
    const first = keys.encryptor('k');
    keys.loadEncryptionKey('k', ctx, secretKeyed);
    expect(() => first.encrypt([1])).toThrow();
    expect(keys.held()).toEqual(['k']);
    keys.forget('k');
  });

  it('frees the evaluation keys a reload replaces', () => {
    const keys = new HeldKeys('evaluator');
    keys.loadEvaluationKeys('k', 'standard', ctx, ks.relinKeys);
    const first = keys.evaluator('k').keys;
    expect(first.relin.size()).toBe(1);
    keys.loadEvaluationKeys('k', 'standard', ctx, ks.relinKeys);
    expect(() => first.relin.size()).toThrow(/deleted object/);
    expect(keys.evaluator('k').keys.relin.size()).toBe(1);
    keys.forget('k');
  });

  it('in an evaluator, refuses an encryption key (which could carry the secret key) and holds nothing after', () => {
    const keys = new HeldKeys('evaluator');
    expect(() => keys.loadEncryptionKey('k', ctx, secretKeyed)).toThrow(/an evaluator worker never takes an encryption key/);
    expect(keys.held()).toEqual([]);
    keys.loadEvaluationKeys('k', 'standard', ctx, ks.relinKeys);
    expect(keys.held()).toEqual(['k']);
    keys.forget('k');
  });
});
