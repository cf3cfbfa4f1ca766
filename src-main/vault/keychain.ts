import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { keychainError, KeytarLoadError, withTimeout } from './keychain-errors.ts';
import { open, seal, SealedBoxSchema } from './sealed-box.ts';
import { type SecretKeyVault, VaultError } from './vault.ts';

export const KEYCHAIN_SERVICE = 'HomoPAI';

/** The three keytar calls the vault needs; tests inject failing ones to stand in for broken D-Bus setups. */
export interface KeychainBackend {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

let keytar: Promise<KeychainBackend> | undefined;

// Imported on first use: keytar is a native module that may be absent or unloadable (no libsecret), and the
// passphrase vault must keep working on such machines.
function loadKeytar(): Promise<KeychainBackend> {
  keytar ??= import('keytar').then(
    (m) => m.default,
    (e: unknown) => {
      throw new KeytarLoadError(e);
    },
  );
  return keytar;
}

export const keytarBackend: KeychainBackend = {
  getPassword: async (service, account) => (await loadKeytar()).getPassword(service, account),
  setPassword: async (service, account, password) => (await loadKeytar()).setPassword(service, account, password),
  deletePassword: async (service, account) => (await loadKeytar()).deletePassword(service, account),
};

const PROBE_TIMEOUT_MS = 5_000;
// Longer than the probe: on a desktop a locked keyring shows an unlock prompt and the user needs time to answer it.
const CALL_TIMEOUT_MS = 30_000;

const WrappedKeyFileSchema = z.object({
  format: z.literal('homopai.keychain-wrapped-key'),
  version: z.literal(1),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  box: SealedBoxSchema,
});

export function wrappedKeyPath(dir: string, fingerprint: string): string {
  return join(dir, `wrapped-key-${fingerprint.slice(0, 16)}.json`);
}

async function call<T>(op: () => Promise<T>, ms = CALL_TIMEOUT_MS): Promise<T> {
  try {
    return await withTimeout(op(), ms);
  } catch (e) {
    throw keychainError(e);
  }
}

/** Writes, reads back and deletes a throwaway entry; throws the 'unavailable' VaultError saying why not. */
async function probe(keychain: KeychainBackend): Promise<void> {
  const account = `probe-${randomBytes(8).toString('hex')}`;
  const value = randomBytes(16).toString('base64');
  await call(async () => {
    await keychain.setPassword(KEYCHAIN_SERVICE, account, value);
    try {
      if ((await keychain.getPassword(KEYCHAIN_SERVICE, account)) !== value) {
        throw new Error('an entry written to it read back differently');
      }
    } finally {
      await keychain.deletePassword(KEYCHAIN_SERVICE, account);
    }
  }, PROBE_TIMEOUT_MS);
}

/** Whether the keychain vault can work here, answered within ~5 s even when D-Bus hangs. */
export async function keychainAvailable(
  keychain: KeychainBackend = keytarBackend,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await probe(keychain);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: keychainError(e).message };
  }
}

function decodeWrappingKey(stored: string): Uint8Array | null {
  const key = Buffer.from(stored, 'base64');
  return key.length === 32 && key.toString('base64') === stored ? key : null;
}

/**
 * Envelope encryption: a CKKS secret key (250 KB to 1 MB) cannot live in the OS keychain (Windows caps a
 * credential at 2,560 bytes), so a random 256-bit wrapping key does, and the secret key is sealed under it
 * in a file beside the workspace. Keychain entry: service "HomoPAI", account = key-set fingerprint, which
 * workspaces holding the same key set share.
 */
export class KeychainVault implements SecretKeyVault {
  readonly custody = 'keychain' as const;
  private readonly dir: string;
  private readonly keychain: KeychainBackend;

  constructor(dir: string, keychain: KeychainBackend = keytarBackend) {
    this.dir = dir;
    this.keychain = keychain;
  }

  async store(fingerprint: string, secretKey: Uint8Array): Promise<void> {
    checkFingerprint(fingerprint);
    const path = wrappedKeyPath(this.dir, fingerprint);
    if (await stat(path).then(() => true, () => false)) {
      throw new VaultError('exists', `key set ${fingerprint.slice(0, 16)} already has a wrapped key at ${path}`);
    }
    if ((await call(() => this.keychain.getPassword(KEYCHAIN_SERVICE, fingerprint))) !== null) {
      throw new VaultError(
        'exists',
        `the OS keychain already holds a wrapping key for key set ${fingerprint.slice(0, 16)} (another workspace uses this key set, or an earlier store was interrupted); restore the secret key from its key backup instead`,
      );
    }
    await this.writeWrapped(fingerprint, secretKey, randomBytes(32), 'create');
  }

  async load(fingerprint: string): Promise<Uint8Array> {
    checkFingerprint(fingerprint);
    const path = wrappedKeyPath(this.dir, fingerprint);
    const box = await this.readWrapped(fingerprint, path);
    const stored = await call(() => this.keychain.getPassword(KEYCHAIN_SERVICE, fingerprint));
    if (stored === null) {
      // A locked keyring also answers a lookup with null; only a keychain that takes a write proves the entry is gone.
      await probe(this.keychain);
      throw new VaultError(
        'missing',
        `the wrapping key for key set ${fingerprint.slice(0, 16)} is not in the OS keychain; restore it from your encrypted key backup`,
      );
    }
    const wrappingKey = decodeWrappingKey(stored);
    if (!wrappingKey) {
      throw new VaultError(
        'tampered',
        `the OS keychain entry for key set ${fingerprint.slice(0, 16)} (service "${KEYCHAIN_SERVICE}") is not a 256-bit key; restore the secret key from your encrypted key backup`,
      );
    }
    const secretKey = open(wrappingKey, box, fingerprint);
    if (!secretKey) {
      throw new VaultError(
        'tampered',
        `${path} was altered, or the OS keychain holds a different wrapping key for key set ${fingerprint.slice(0, 16)}; restore the secret key from your encrypted key backup`,
      );
    }
    return secretKey;
  }

  async destroy(fingerprint: string): Promise<void> {
    checkFingerprint(fingerprint);
    // The keychain entry first: without its wrapping key the file left behind by a failure opens nothing.
    await call(() => this.keychain.deletePassword(KEYCHAIN_SERVICE, fingerprint));
    await rm(wrappedKeyPath(this.dir, fingerprint), { force: true });
  }

  /**
   * Replaces the wrapped-key file. A valid wrapping key already in the keychain is reused rather than replaced,
   * so other workspaces holding this key set keep working.
   */
  async replace(fingerprint: string, secretKey: Uint8Array): Promise<void> {
    checkFingerprint(fingerprint);
    const stored = await call(() => this.keychain.getPassword(KEYCHAIN_SERVICE, fingerprint));
    const existing = stored === null ? null : decodeWrappingKey(stored);
    await this.writeWrapped(fingerprint, secretKey, existing ?? randomBytes(32), existing ? 'keep' : 'replace');
  }

  /**
   * The file is written to a temporary name first and renamed only once the keychain holds its key, so a
   * failure at any step leaves no wrapped-key file that nothing can open.
   */
  private async writeWrapped(
    fingerprint: string,
    secretKey: Uint8Array,
    wrappingKey: Uint8Array,
    entry: 'create' | 'replace' | 'keep',
  ): Promise<void> {
    const path = wrappedKeyPath(this.dir, fingerprint);
    const tmp = `${path}.tmp`;
    const file = { format: 'homopai.keychain-wrapped-key', version: 1, fingerprint, box: seal(wrappingKey, secretKey, fingerprint) };
    await mkdir(this.dir, { recursive: true });
    await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
    try {
      if (entry !== 'keep') {
        const encoded = Buffer.from(wrappingKey).toString('base64');
        await call(() => this.keychain.setPassword(KEYCHAIN_SERVICE, fingerprint, encoded));
      }
      try {
        await rename(tmp, path);
      } catch (e) {
        if (entry === 'create') await call(() => this.keychain.deletePassword(KEYCHAIN_SERVICE, fingerprint)).catch(() => false);
        throw e;
      }
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async readWrapped(fingerprint: string, path: string): Promise<z.infer<typeof SealedBoxSchema>> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new VaultError('missing', `no wrapped key for key set ${fingerprint.slice(0, 16)} at ${path}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new VaultError('tampered', `${path} is not valid JSON (damaged or altered)`);
    }
    const r = WrappedKeyFileSchema.safeParse(parsed);
    if (!r.success) throw new VaultError('tampered', `${path} is malformed: ${r.error.issues[0]?.message}`);
    if (r.data.fingerprint !== fingerprint) {
      throw new VaultError(
        'tampered',
        `${path} belongs to key set ${r.data.fingerprint.slice(0, 16)}, not ${fingerprint.slice(0, 16)}`,
      );
    }
    return r.data.box;
  }
}

// The fingerprint names a file and a keychain account: anything but a SHA-256 hex digest is a caller bug.
function checkFingerprint(fingerprint: string): void {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) {
    throw new VaultError('missing', `"${fingerprint.slice(0, 80)}" is not a key-set fingerprint (64 lowercase hex digits)`);
  }
}
