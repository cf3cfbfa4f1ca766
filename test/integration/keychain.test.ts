import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCHAIN_SERVICE, keychainAvailable, keytarBackend, KeychainVault, wrappedKeyPath } from '../../src-main/vault/keychain.ts';
import { PassphraseVault, passphraseVaultPath } from '../../src-main/vault/passphrase.ts';
import { exportKeyBackup, restoreKeyBackup } from '../../src-main/vault/backup.ts';
import { vaultError } from '../helpers/vault.ts';

/*
 * Runs against the real keytar and a real Secret Service: `bash scripts/with-keyring.sh npx vitest run
 * test/integration/keychain.test.ts` provides a throwaway unlocked GNOME Keyring. HOMOPAI_SKIP_KEYCHAIN=1
 * skips the suite, for runners that cannot host a keyring at all; without it, a missing keyring fails the
 * suite, so a green run always means the keychain was exercised.
 */
// Never skipped on CI: there the suite runs, and fails without a keyring.
const describeKeychain = process.env.HOMOPAI_SKIP_KEYCHAIN === '1' && process.env.CI !== 'true' ? describe.skip : describe;

describeKeychain('KeychainVault with the real OS keychain', () => {
  const dirs: string[] = [];
  const fingerprints: string[] = [];
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'homopai-keychain-'));
    dirs.push(d);
    return d;
  };
  const newFingerprint = () => {
    const fp = randomBytes(32).toString('hex');
    fingerprints.push(fp);
    return fp;
  };

  beforeAll(async () => {
    const howToRun =
      'run them under a throwaway keyring: bash scripts/with-keyring.sh npx vitest run test/integration/keychain.test.ts ' +
      '(or set HOMOPAI_SKIP_KEYCHAIN=1 to skip them on a machine that cannot host one)';
    if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
      throw new Error(`The keychain tests need a D-Bus session with a Secret Service; ${howToRun}`);
    }
    const probe = await keychainAvailable();
    if (!probe.ok) throw new Error(`The keychain tests need a working OS keychain; ${howToRun}. Probe: ${probe.reason}`);
  });

  // Under with-keyring.sh the keyring is discarded anyway; in a developer's own session this keeps it clean.
  afterAll(async () => {
    for (const fp of fingerprints) await keytarBackend.deletePassword(KEYCHAIN_SERVICE, fp).catch(() => false);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const secretKey = randomBytes(200 * 1024);
  const passphrase = 'backup passphrase for the test';

  it('stores and loads a 200 KB secret key', async () => {
    const dir = newDir();
    const fp = newFingerprint();
    const vault = new KeychainVault(dir);
    await vault.store(fp, secretKey);
    expect(Buffer.from(await vault.load(fp)).equals(secretKey)).toBe(true);
    expect(Buffer.from(await new KeychainVault(dir).load(fp)).equals(secretKey)).toBe(true);
  });

  it('keeps only a 32-byte wrapping key in the keychain, and no secret-key bytes in the file', async () => {
    const dir = newDir();
    const fp = newFingerprint();
    await new KeychainVault(dir).store(fp, secretKey);
    const entry = await keytarBackend.getPassword(KEYCHAIN_SERVICE, fp);
    expect(entry).toHaveLength(44);
    expect(Buffer.from(entry!, 'base64')).toHaveLength(32);
    const path = wrappedKeyPath(dir, fp);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = readFileSync(path);
    expect(file.includes(secretKey.subarray(100_000, 100_064))).toBe(false);
    expect(file.includes(secretKey.toString('base64').slice(0, 64))).toBe(false);
    expect(file.includes(secretKey.toString('hex').slice(0, 64))).toBe(false);
  });

  it("refuses a second store of the same key set -> 'exists'", async () => {
    const fp = newFingerprint();
    await new KeychainVault(newDir()).store(fp, secretKey);
    expect((await vaultError(new KeychainVault(newDir()).store(fp, secretKey))).code).toBe('exists');
  });

  it("a deleted keychain entry -> 'missing', and a restored backup brings it back", async () => {
    const dir = newDir();
    const fp = newFingerprint();
    const vault = new KeychainVault(dir);
    await vault.store(fp, secretKey);
    const backup = await exportKeyBackup(vault, fp, passphrase);
    expect(await keytarBackend.deletePassword(KEYCHAIN_SERVICE, fp)).toBe(true);
    const e = await vaultError(vault.load(fp));
    expect(e.code).toBe('missing');
    expect(e.message).toBe(
      `the wrapping key for key set ${fp.slice(0, 16)} is not in the OS keychain; restore it from your encrypted key backup`,
    );
    await restoreKeyBackup(vault, fp, backup, passphrase);
    expect(Buffer.from(await vault.load(fp)).equals(secretKey)).toBe(true);
  });

  it("one flipped byte of the wrapped file -> 'tampered'", async () => {
    const dir = newDir();
    const fp = newFingerprint();
    await new KeychainVault(dir).store(fp, secretKey);
    const path = wrappedKeyPath(dir, fp);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { box: { data: string } };
    // Mid-data, where every base64 character carries 6 bits of ciphertext (the last one may carry padding).
    const i = file.box.data.length >> 1;
    file.box.data = file.box.data.slice(0, i) + (file.box.data[i] === 'A' ? 'B' : 'A') + file.box.data.slice(i + 1);
    writeFileSync(path, JSON.stringify(file));
    const e = await vaultError(new KeychainVault(dir).load(fp));
    expect(e.code).toBe('tampered');
    expect(e.message).toMatch(/was altered/);
  });

  it("a wrapping key replaced in the keychain -> 'tampered'", async () => {
    const dir = newDir();
    const fp = newFingerprint();
    await new KeychainVault(dir).store(fp, secretKey);
    await keytarBackend.setPassword(KEYCHAIN_SERVICE, fp, randomBytes(32).toString('base64'));
    expect((await vaultError(new KeychainVault(dir).load(fp))).code).toBe('tampered');
  });

  it("wrong fingerprint -> 'missing', or 'tampered' for another key set's file in its place", async () => {
    const dir = newDir();
    const fp = newFingerprint();
    const other = newFingerprint();
    await new KeychainVault(dir).store(fp, secretKey);
    expect((await vaultError(new KeychainVault(dir).load(other))).code).toBe('missing');
    copyFileSync(wrappedKeyPath(dir, fp), wrappedKeyPath(dir, other));
    expect((await vaultError(new KeychainVault(dir).load(other))).code).toBe('tampered');
  });

  it('exports a passphrase-protected backup that restores into a fresh workspace', async () => {
    const dir = newDir();
    const fp = newFingerprint();
    const vault = new KeychainVault(dir);
    await vault.store(fp, secretKey);
    const backup = await exportKeyBackup(vault, fp, passphrase);
    expect(Buffer.from(backup).includes(secretKey.subarray(0, 64))).toBe(false);

    const fresh = newDir();
    const restored = new KeychainVault(fresh);
    await restoreKeyBackup(restored, fp, backup, passphrase);
    expect(Buffer.from(await restored.load(fp)).equals(secretKey)).toBe(true);
    // The keychain entry is shared per key set, and restore reused it: the original workspace still opens.
    expect(Buffer.from(await vault.load(fp)).equals(secretKey)).toBe(true);

    // Same format as the passphrase vault: a backup is also a ready passphrase vault file.
    writeFileSync(passphraseVaultPath(fresh, fp), backup);
    expect(Buffer.from(await new PassphraseVault(fresh, passphrase).load(fp)).equals(secretKey)).toBe(true);
  });

  it("a wrong backup passphrase -> 'wrong-passphrase', and nothing is written", async () => {
    const fp = newFingerprint();
    const vault = new KeychainVault(newDir());
    await vault.store(fp, secretKey);
    const backup = await exportKeyBackup(vault, fp, passphrase);
    const fresh = newDir();
    const e = await vaultError(restoreKeyBackup(new KeychainVault(fresh), fp, backup, 'not the backup passphrase'));
    expect(e.code).toBe('wrong-passphrase');
    expect((await vaultError(new KeychainVault(fresh).load(fp))).code).toBe('missing');
  });
});
