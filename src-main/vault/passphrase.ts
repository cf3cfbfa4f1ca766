import { randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { readFile, writeFile, rename, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { open, seal, SealedBoxSchema } from './sealed-box.ts';
import { type SecretKeyVault, VaultError } from './vault.ts';

function scrypt(passphrase: string, salt: Buffer, params: ScryptOptions & { keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(passphrase.normalize('NFC'), salt, params.keylen, params, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const VaultFileSchema = z.object({
  format: z.literal('homopai.passphrase-vault'),
  version: z.literal(1),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  /*
   * Bounded above as well as below: the parameters come from the file, and N = 2^30 would have the unlock
   * allocate a terabyte (a denial of service planted in a vault file). 2^20 x r 16 is 2 GiB, above anything
   * this app writes (2^17 x 8 = 128 MiB) with room for raising it later.
   */
  kdf: z
    .object({
      name: z.literal('scrypt'),
      N: z.number().int().min(2 ** 14).max(2 ** 20).refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
      r: z.number().int().min(1).max(16),
      p: z.number().int().min(1).max(4),
      salt: z.base64(),
    })
    .refine((k) => 128 * k.N * k.r <= 2 ** 31, 'scrypt parameters need more than 2 GiB'),
  box: SealedBoxSchema,
});

/*
 * scrypt N=2^17, r=8 (OWASP's current minimum for scrypt): ~0.3 s and 128 MiB per unlock, which makes an
 * offline guess at a stolen vault file cost the same. Parameters are stored beside the blob so they can be
 * raised later without breaking old vaults.
 */
const KDF = { N: 2 ** 17, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_LENGTH = 10;

export function passphraseVaultPath(dir: string, fingerprint: string): string {
  return join(dir, `secret-key-${fingerprint.slice(0, 16)}.vault.json`);
}

/**
 * Seals a secret key under a passphrase into the text of a passphrase-vault file. Also the format of a
 * keychain vault's key backup, so one scrypt implementation guards both and a backup opens in either vault.
 */
export async function sealWithPassphrase(fingerprint: string, secretKey: Uint8Array, passphrase: string): Promise<string> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new VaultError('wrong-passphrase', `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  const salt = randomBytes(16);
  const key = await scrypt(passphrase, salt, { ...KDF, keylen: 32, maxmem: 256 * 1024 * 1024 });
  return JSON.stringify({
    format: 'homopai.passphrase-vault',
    version: 1,
    fingerprint,
    kdf: { name: 'scrypt', ...KDF, salt: salt.toString('base64') },
    box: seal(key, secretKey, fingerprint),
  });
}

/** Opens what sealWithPassphrase wrote; `what` names the source (a file path, "key backup") in errors. */
export async function openWithPassphrase(text: string, fingerprint: string, passphrase: string, what: string): Promise<Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VaultError('tampered', `${what} is not valid JSON (damaged or altered)`);
  }
  const r = VaultFileSchema.safeParse(parsed);
  if (!r.success) throw new VaultError('tampered', `${what} is malformed: ${r.error.issues.map((i) => i.message).join('; ')}`);
  const v = r.data;
  if (v.fingerprint !== fingerprint) {
    throw new VaultError('tampered', `${what} belongs to key set ${v.fingerprint.slice(0, 16)}, not ${fingerprint.slice(0, 16)}`);
  }
  const key = await scrypt(passphrase, Buffer.from(v.kdf.salt, 'base64'), {
    N: v.kdf.N,
    r: v.kdf.r,
    p: v.kdf.p,
    keylen: 32,
    maxmem: 256 * v.kdf.N * v.kdf.r * 2,
  });
  const sk = open(key, v.box, fingerprint);
  if (!sk) {
    throw new VaultError('wrong-passphrase', `wrong passphrase (or ${what} was altered): the secret key was not unlocked`);
  }
  return sk;
}

/** The secret key sealed under a key derived from a passphrase (scrypt + AES-256-GCM), in a file. */
export class PassphraseVault implements SecretKeyVault {
  readonly custody = 'passphrase' as const;
  private readonly dir: string;
  private readonly passphrase: string;

  constructor(dir: string, passphrase: string) {
    this.dir = dir;
    this.passphrase = passphrase;
  }

  async store(fingerprint: string, secretKey: Uint8Array): Promise<void> {
    const text = await sealWithPassphrase(fingerprint, secretKey, this.passphrase);
    await mkdir(this.dir, { recursive: true });
    const path = passphraseVaultPath(this.dir, fingerprint);
    // Write then rename: a crash leaves either no vault or a whole one, never half a secret key.
    const tmp = `${path}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  }

  async load(fingerprint: string): Promise<Uint8Array> {
    const path = passphraseVaultPath(this.dir, fingerprint);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new VaultError('missing', `no passphrase vault for key set ${fingerprint.slice(0, 16)} at ${path}`);
    }
    return openWithPassphrase(text, fingerprint, this.passphrase, `vault file ${path}`);
  }

  /** store already replaces the file whole (write, then rename). */
  replace(fingerprint: string, secretKey: Uint8Array): Promise<void> {
    return this.store(fingerprint, secretKey);
  }

  async destroy(fingerprint: string): Promise<void> {
    const path = passphraseVaultPath(this.dir, fingerprint);
    // Overwritten before it is unlinked: not a guarantee on a journaling or copy-on-write disk, but the file only
    // ever held the key sealed under the passphrase, so what might linger is still encrypted.
    const size = await stat(path).then((s) => s.size, () => null);
    if (size === null) return;
    await writeFile(path, randomBytes(size));
    await rm(path);
  }
}
