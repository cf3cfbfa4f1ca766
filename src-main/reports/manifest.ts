import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { sha256Hex } from '../common/files.ts';
import { publicKeyFingerprint, publicKeyPem, type SigningKey } from './signing.ts';

export const MANIFEST_SUFFIX = '.manifest.json';
export const SIGNATURE_SUFFIX = '.manifest.sig';

// Plain names only: a manifest must not be able to point the verifier outside its own folder.
const FileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/);
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const ManifestSchema = z.object({
  format: z.literal('homopai.report-manifest'),
  version: z.literal(1),
  report: FileName,
  signedAt: z.string(),
  appVersion: z.string(),
  keySet: Hex64,
  signer: z.object({ user: z.string(), role: z.string(), keyFingerprint: Hex64, publicKey: z.string() }),
  files: z.array(z.object({ name: FileName, bytes: z.number().int().nonnegative(), sha256: Hex64 })).min(1),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export interface ManifestInput {
  report: string;
  signedAt: string;
  appVersion: string;
  keySet: string;
  signer: { user: string; role: string };
  files: { name: string; bytes: Uint8Array }[];
}

/** The manifest's exact bytes and their Ed25519 signature (base64, one line): the two files that seal a report. */
export function signManifest(input: ManifestInput, key: SigningKey): { manifest: Manifest; manifestBytes: Buffer; signature: string } {
  const manifest: Manifest = {
    format: 'homopai.report-manifest',
    version: 1,
    report: input.report,
    signedAt: input.signedAt,
    appVersion: input.appVersion,
    keySet: input.keySet,
    signer: { ...input.signer, keyFingerprint: key.fingerprint, publicKey: publicKeyPem(key.publicKey) },
    files: input.files.map((f) => ({ name: f.name, bytes: f.bytes.byteLength, sha256: sha256Hex(f.bytes) })),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
  return { manifest, manifestBytes, signature: `${sign(null, manifestBytes, key.privateKey).toString('base64')}\n` };
}

export type VerifyResult =
  | {
      ok: true;
      manifestPath: string;
      manifest: Manifest;
      /** false: checked only against the key inside the manifest, which proves integrity but not who signed. */
      keyTrusted: boolean;
    }
  | { ok: false; file: string; problem: string };

/** The one manifest in a report folder, or the manifest named. */
async function manifestPathOf(path: string): Promise<string> {
  if (path.endsWith(MANIFEST_SUFFIX)) return path;
  const entries = await readdir(path).catch(() => {
    throw new Error(`${path} is neither a report manifest (*${MANIFEST_SUFFIX}) nor a folder holding one`);
  });
  const manifests = entries.filter((e) => e.endsWith(MANIFEST_SUFFIX));
  if (manifests.length !== 1) {
    throw new Error(`${path} holds ${manifests.length} report manifests; name the one to check`);
  }
  return join(path, manifests[0]!);
}

function ed25519(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

function parseManifest(bytes: Buffer): Manifest | null {
  try {
    const r = ManifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Checks a report: the manifest's signature first (against `trustedKeyPem` when given, which is what says
 * who signed), then the size and SHA-256 of every file it lists. Stops at the first problem and names its file.
 */
export async function verifyReport(path: string, trustedKeyPem?: { name: string; pem: string }): Promise<VerifyResult> {
  const manifestPath = await manifestPathOf(path);
  const manifestName = basename(manifestPath);
  const sigName = `${manifestName.slice(0, -MANIFEST_SUFFIX.length)}${SIGNATURE_SUFFIX}`;
  const fail = (file: string, problem: string): VerifyResult => ({ ok: false, file, problem });

  const manifestBytes = await readFile(manifestPath).catch(() => null);
  if (!manifestBytes) return fail(manifestName, 'cannot be read');
  const sigText = await readFile(join(dirname(manifestPath), sigName), 'utf8').catch(() => null);
  if (sigText === null) return fail(sigName, 'is missing: the report is not signed');
  const signature = Buffer.from(sigText.trim(), 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sigText.trim()) || signature.length !== 64) {
    return fail(sigName, 'is not an Ed25519 signature (64 bytes, base64)');
  }

  // A trusted key is checked before the manifest is even parsed: nothing unsigned is interpreted.
  const trusted = trustedKeyPem ? ed25519(trustedKeyPem.pem) : null;
  if (trustedKeyPem && !trusted) return fail(trustedKeyPem.name, 'is not an Ed25519 public key (PEM)');
  if (trusted && !verify(null, manifestBytes, trusted, signature)) {
    return fail(manifestName, `its signature does not verify with ${trustedKeyPem!.name}: altered, or signed by another key`);
  }
  const manifest = parseManifest(manifestBytes);
  if (!manifest) return fail(manifestName, 'is not a valid HomoPAI report manifest (damaged or altered)');
  const key = trusted ?? ed25519(manifest.signer.publicKey);
  if (!key) return fail(manifestName, 'carries no valid Ed25519 public key');
  if (publicKeyFingerprint(key) !== manifest.signer.keyFingerprint) {
    return fail(manifestName, 'names a signer key fingerprint that is not the key checked against');
  }
  if (!trusted && !verify(null, manifestBytes, key, signature)) {
    return fail(manifestName, 'its signature does not verify: the manifest or its signature was altered');
  }

  for (const f of manifest.files) {
    const bytes = await readFile(join(dirname(manifestPath), f.name)).catch(() => null);
    if (!bytes) return fail(f.name, 'is missing');
    if (bytes.byteLength !== f.bytes || sha256Hex(bytes) !== f.sha256) {
      return fail(f.name, 'does not match the signed manifest (altered, truncated or replaced)');
    }
  }
  return { ok: true, manifestPath, manifest, keyTrusted: trusted !== null };
}
