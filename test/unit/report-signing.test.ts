import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signManifest, verifyReport } from '../../src-main/reports/manifest.ts';
import { openSigningKey, publicKeyPem, signingKeyId } from '../../src-main/reports/signing.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { type SecretKeyVault, VaultError } from '../../src-main/vault/vault.ts';
import { vaultError } from '../helpers/vault.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const KEY_SET = 'ab'.repeat(32);

/** Stands in for either vault: what openSigningKey needs is only load, store and the 'missing' error. */
function memoryVault(): SecretKeyVault & { stored: Map<string, Uint8Array> } {
  // Holds the key set's secret key, as a real vault does: a signing key is only made beside it.
  const stored = new Map<string, Uint8Array>([[KEY_SET, Uint8Array.of(1, 2, 3)]]);
  return {
    custody: 'passphrase',
    stored,
    store: async (id, secret) => void stored.set(id, Uint8Array.from(secret)),
    load: async (id) => {
      const s = stored.get(id);
      if (!s) throw new VaultError('missing', `nothing stored under ${id}`);
      return Uint8Array.from(s);
    },
    destroy: async (id) => void stored.delete(id),
    replace: async (id, secret) => void stored.set(id, Uint8Array.from(secret)),
  };
}

/** A signed two-file report in a fresh folder. */
async function signedReport(dir: string, files = { 'r.pdf': 'pdf bytes', 'r.json': '{}' }) {
  const key = await openSigningKey(memoryVault(), KEY_SET);
  const entries = Object.entries(files).map(([name, text]) => ({ name, bytes: Buffer.from(text) }));
  for (const f of entries) writeFileSync(join(dir, f.name), f.bytes);
  const { manifestBytes, signature } = signManifest(
    { report: 'r', signedAt: '2025-01-10T10:15:00.000Z', appVersion: '0.1.0', keySet: KEY_SET, signer: { user: 'u', role: 'auditor' }, files: entries },
    key,
  );
  writeFileSync(join(dir, 'r.manifest.json'), manifestBytes);
  writeFileSync(join(dir, 'r.manifest.sig'), signature);
  return { key, pem: { name: 'key.pem', pem: publicKeyPem(key.publicKey) }, manifestBytes };
}

describe('report-signing key', () => {
  it('is created once, sealed under an id of its own, and reopened after', async () => {
    const vault = memoryVault();
    const first = await openSigningKey(vault, KEY_SET);
    expect(first.created).toBe(true);
    expect(first.privateKey.asymmetricKeyType).toBe('ed25519');
    expect([...vault.stored.keys()]).toEqual([KEY_SET, signingKeyId(KEY_SET)]);
    expect(signingKeyId(KEY_SET)).toMatch(/^[0-9a-f]{64}$/);
    expect(signingKeyId(KEY_SET)).not.toBe(KEY_SET);
    const again = await openSigningKey(vault, KEY_SET);
    expect(again).toMatchObject({ created: false, fingerprint: first.fingerprint });
  });

  it('lives in the passphrase vault, which refuses a wrong passphrase instead of making a new key', async () => {
    using tmp = tempDir();
    await new PassphraseVault(tmp.dir, PASSPHRASE).store(KEY_SET, Uint8Array.of(1, 2, 3));
    const first = await vaultError(openSigningKey(new PassphraseVault(tmp.dir, 'another passphrase'), KEY_SET));
    expect(first.code).toBe('wrong-passphrase');
    const made = await openSigningKey(new PassphraseVault(tmp.dir, PASSPHRASE), KEY_SET);
    expect(made.created).toBe(true);
    expect((await openSigningKey(new PassphraseVault(tmp.dir, PASSPHRASE), KEY_SET)).fingerprint).toBe(made.fingerprint);
    const e = await vaultError(openSigningKey(new PassphraseVault(tmp.dir, 'another passphrase'), KEY_SET));
    expect(e.code).toBe('wrong-passphrase');
  });
});

describe('report verification', () => {
  it('accepts an intact report, by folder or by manifest', async () => {
    using tmp = tempDir();
    const { pem } = await signedReport(tmp.dir);
    expect(await verifyReport(tmp.dir, pem)).toMatchObject({ ok: true, keyTrusted: true, manifest: { files: [{ name: 'r.pdf' }, { name: 'r.json' }] } });
    expect(await verifyReport(join(tmp.dir, 'r.manifest.json'))).toMatchObject({ ok: true, keyTrusted: false });
  });

  it('names the missing file, the missing or malformed signature, and a key that is not Ed25519', async () => {
    using tmp = tempDir();
    const { pem } = await signedReport(tmp.dir);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(await verifyReport(tmp.dir, { name: 'rsa.pem', pem: rsa })).toMatchObject({ ok: false, file: 'rsa.pem' });
    writeFileSync(join(tmp.dir, 'r.manifest.sig'), 'not base64 !\n');
    expect(await verifyReport(tmp.dir, pem)).toMatchObject({ ok: false, file: 'r.manifest.sig' });

    using other = tempDir();
    const second = await signedReport(other.dir);
    rmSync(join(other.dir, 'r.json'));
    expect(await verifyReport(other.dir, second.pem)).toMatchObject({ ok: false, file: 'r.json', problem: 'is missing' });
    rmSync(join(other.dir, 'r.manifest.sig'));
    expect(await verifyReport(other.dir, second.pem)).toMatchObject({ ok: false, file: 'r.manifest.sig' });
  });

  it('signs no manifest that names a file outside the report folder', async () => {
    const key = await openSigningKey(memoryVault(), KEY_SET);
    expect(() =>
      signManifest(
        { report: 'r', signedAt: 'x', appVersion: '0.1.0', keySet: KEY_SET, signer: { user: 'u', role: 'r' }, files: [{ name: '../etc/passwd', bytes: Buffer.from('') }] },
        key,
      ),
    ).toThrow();
  });

  it('refuses a folder holding no manifest, or several', async () => {
    using tmp = tempDir();
    await expect(verifyReport(tmp.dir)).rejects.toThrow(/holds 0 report manifests/);
    writeFileSync(join(tmp.dir, 'a.manifest.json'), '{}');
    writeFileSync(join(tmp.dir, 'b.manifest.json'), '{}');
    await expect(verifyReport(tmp.dir)).rejects.toThrow(/holds 2 report manifests/);
  });
});
