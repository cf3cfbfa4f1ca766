import { expect } from 'vitest';
import { VaultError } from '../../src-main/vault/vault.ts';

/** Awaits work that must fail with a VaultError, and returns that error for its code and message. */
export async function vaultError(work: Promise<unknown>): Promise<VaultError> {
  const e = await work.then(
    () => expect.unreachable('expected a VaultError'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VaultError);
  return e as VaultError;
}
