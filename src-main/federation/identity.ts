import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { shortFingerprint } from '../ckks/keys.ts';
import { writeFileAtomic } from '../common/files.ts';
import { PassphraseVault } from '../vault/passphrase.ts';
import { zodIssues } from './errors.ts';

/*
 * A hospital's own identity, kept in its own folder and never sent anywhere but its public half:
 * - an Ed25519 signing key: the workstation pins the public key at the first bundle, so later bundles in the
 *   hospital's name must come from the same key;
 * - a 256-bit pseudonymization key: patient ids leave the hospital only as HMAC-SHA-256 pseudonyms, stable
 *   across the hospital's bundles (the hospital can re-identify its own patients) but meaningless to anyone
 *   without the key, which the workstation never gets.
 * Both secrets are sealed together in the passphrase vault (scrypt + AES-256-GCM), under the signing key's id
 * as associated data, so the sealed file cannot be swapped onto another identity.
 */

export const IDENTITY_FILE = 'hospital.json';

const IdentityFileSchema = z.object({
  format: z.literal('homopai.hospital-identity'),
  version: z.literal(1),
  hospital: z.string().min(1),
  signingKey: z.string().min(1),
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});

const SecretsSchema = z.object({ signingKey: z.string().min(1), pseudonymKey: z.string().min(1) });

/** A signing key's identity: SHA-256 of its SubjectPublicKeyInfo (DER), as pinned by the workstation. */
export function keyIdOf(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

export function verifySignature(spkiDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' }), signature);
  } catch {
    // Not an Ed25519 public key at all: as unverifiable as a wrong signature.
    return false;
  }
}

export class HospitalIdentity {
  readonly hospital: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  private readonly signingKey: KeyObject;
  private pseudonymKey: Buffer | null;

  private constructor(hospital: string, publicKey: Uint8Array, signingKey: KeyObject, pseudonymKey: Buffer) {
    this.hospital = hospital;
    this.publicKey = publicKey;
    this.keyId = keyIdOf(publicKey);
    this.signingKey = signingKey;
    this.pseudonymKey = pseudonymKey;
  }

  get shortKeyId(): string {
    return shortFingerprint(this.keyId);
  }

  /** Opens the identity in `dir`, creating it on first use; `hospital` must match the identity already there. */
  static async open(dir: string, hospital: string, passphrase: string): Promise<{ identity: HospitalIdentity; created: boolean }> {
    const path = join(dir, IDENTITY_FILE);
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (text === null) return { identity: await HospitalIdentity.create(dir, hospital, passphrase), created: true };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not JSON (damaged or altered)`);
    }
    const r = IdentityFileSchema.safeParse(json);
    if (!r.success) throw new Error(`${path} is not a hospital identity (${zodIssues(r.error)})`);
    const file = r.data;
    if (file.hospital !== hospital) {
      throw new Error(`${dir} holds the identity of hospital "${file.hospital}", not "${hospital}": use that hospital's own folder`);
    }
    const publicKey = new Uint8Array(Buffer.from(file.signingKey, 'base64'));
    if (keyIdOf(publicKey) !== file.keyId) throw new Error(`${path} was altered: its public key does not match its key id`);
    const sealed = await new PassphraseVault(dir, passphrase).load(file.keyId);
    try {
      const secrets = SecretsSchema.parse(JSON.parse(Buffer.from(sealed).toString('utf8')));
      const signingKey = createPrivateKey({ key: Buffer.from(secrets.signingKey, 'base64'), format: 'der', type: 'pkcs8' });
      const derived = createPublicKey(signingKey).export({ type: 'spki', format: 'der' });
      if (!derived.equals(publicKey)) throw new Error(`the sealed signing key in ${dir} does not belong to ${path}`);
      return { identity: new HospitalIdentity(hospital, publicKey, signingKey, Buffer.from(secrets.pseudonymKey, 'base64')), created: false };
    } finally {
      sealed.fill(0);
    }
  }

  private static async create(dir: string, hospital: string, passphrase: string): Promise<HospitalIdentity> {
    if (hospital.trim() !== hospital || hospital.length === 0 || hospital.length > 100) {
      throw new Error('the hospital name must be 1 to 100 characters without surrounding spaces');
    }
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const pseudonymKey = randomBytes(32);
    const keyId = keyIdOf(spki);
    const secrets = Buffer.from(
      JSON.stringify({
        signingKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        pseudonymKey: pseudonymKey.toString('base64'),
      }),
    );
    try {
      // The sealed secrets first, the public file last: a crash in between leaves no identity without its key.
      await new PassphraseVault(dir, passphrase).store(keyId, secrets);
    } finally {
      secrets.fill(0);
    }
    const file: z.infer<typeof IdentityFileSchema> = {
      format: 'homopai.hospital-identity',
      version: 1,
      hospital,
      signingKey: Buffer.from(spki).toString('base64'),
      keyId,
      createdAt: new Date().toISOString(),
    };
    await writeFileAtomic(join(dir, IDENTITY_FILE), `${JSON.stringify(file, null, 2)}\n`);
    return new HospitalIdentity(hospital, spki, privateKey, pseudonymKey);
  }

  /** 128 bits of HMAC-SHA-256(pseudonymization key, patient id), hex: collision-free at any cohort size. */
  pseudonym(patientId: string): string {
    if (!this.pseudonymKey) throw new Error('the hospital identity is locked');
    return createHmac('sha256', this.pseudonymKey).update(patientId, 'utf8').digest('hex').slice(0, 32);
  }

  sign(data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.signingKey));
  }

  /** Zeroes the pseudonymization key; the signing key object is dropped with the identity. */
  lock(): void {
    this.pseudonymKey?.fill(0);
    this.pseudonymKey = null;
  }
}
