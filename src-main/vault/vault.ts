/** Where a key set's secret key lives. Implementations never write the secret key in the clear. */
export interface SecretKeyVault {
  readonly custody: 'passphrase' | 'keychain';
  /** Stores the secret key of the key set `fingerprint`, replacing nothing: a second store is an error. */
  store(fingerprint: string, secretKey: Uint8Array): Promise<void>;
  /** Returns the secret key, or throws VaultError with a message that says what to do next. */
  load(fingerprint: string): Promise<Uint8Array>;
}

export class VaultError extends Error {
  readonly code: 'locked' | 'wrong-passphrase' | 'missing' | 'tampered' | 'unavailable' | 'exists';
  constructor(code: VaultError['code'], message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}
