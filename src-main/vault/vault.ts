/** Where a key set's secret key lives. Implementations never write the secret key in the clear. */
export interface SecretKeyVault {
  readonly custody: 'passphrase' | 'keychain';
  /** Stores the secret key of the key set `fingerprint`, replacing nothing: a second store is an error. */
  store(fingerprint: string, secretKey: Uint8Array): Promise<void>;
  /** Returns the secret key, or throws VaultError with a message that says what to do next. */
  load(fingerprint: string): Promise<Uint8Array>;
  /**
   * Removes what this vault holds for `fingerprint` (a key rotated away from, by the key holder's choice). Gone
   * from this machine; a key backup made earlier still opens it, which is why the log records the destruction.
   */
  destroy(fingerprint: string): Promise<void>;
  /** Puts a secret key back (from a key backup), replacing what the vault held for it, which no longer opened. */
  replace(fingerprint: string, secretKey: Uint8Array): Promise<void>;
}

export class VaultError extends Error {
  readonly code: 'locked' | 'wrong-passphrase' | 'missing' | 'tampered' | 'unavailable' | 'exists';
  constructor(code: VaultError['code'], message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}
