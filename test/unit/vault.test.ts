import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { keychainError, KeytarLoadError } from '../../src-main/vault/keychain-errors.ts';
import { type KeychainBackend, keychainAvailable, KeychainVault, wrappedKeyPath } from '../../src-main/vault/keychain.ts';
import { openWithPassphrase, PassphraseVault, passphraseVaultPath } from '../../src-main/vault/passphrase.ts';
import { open, seal } from '../../src-main/vault/sealed-box.ts';
import { VaultError } from '../../src-main/vault/vault.ts';
import { vaultError } from '../helpers/vault.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'homopai-vault-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const fingerprint = () => randomBytes(32).toString('hex');

/*
 * Fakes only for the D-Bus failure modes a working Secret Service session cannot produce. The messages are
 * the ones keytar 7.9 was measured to throw on Linux.
 */
function failing(message: string): KeychainBackend {
  const fail = () => Promise.reject(new Error(message));
  return { getPassword: fail, setPassword: fail, deletePassword: fail };
}
const noDbusSession = failing('Cannot autolaunch D-Bus without X11 $DISPLAY');
const noSecretService = failing('The name org.freedesktop.secrets was not provided by any .service files');
// A locked keyring, measured: writes fail, lookups answer null as if nothing were stored.
const lockedKeyring: KeychainBackend = {
  getPassword: () => Promise.resolve(null),
  setPassword: () => Promise.reject(new Error('Cannot create an item in a locked collection')),
  deletePassword: () => Promise.resolve(false),
};

/** A wrapped-key file as KeychainVault writes it, so load() gets as far as the keychain. */
function writeWrappedFile(fp: string): void {
  const box = seal(randomBytes(32), randomBytes(64), fp);
  writeFileSync(wrappedKeyPath(dir, fp), JSON.stringify({ format: 'homopai.keychain-wrapped-key', version: 1, fingerprint: fp, box }));
}

function expectActionable(e: VaultError, reason: RegExp): void {
  expect(e.code).toBe('unavailable');
  expect(e.message).toMatch(/^The OS keychain is not available \(/);
  expect(e.message).toMatch(reason);
  expect(e.message).toMatch(/Unlock or start your keyring \(e\.g\. GNOME Keyring\), or use the passphrase vault: --custody passphrase$/);
  expect(e.message).not.toMatch(/\n/);
}

describe('KeychainVault error mapping', () => {
  const cases = [
    ['no D-Bus session', noDbusSession, /no D-Bus session/],
    ['no Secret Service provider', noSecretService, /no Secret Service on the D-Bus session/],
    ['a locked keyring', lockedKeyring, /keyring is locked/],
  ] as const;

  for (const [name, backend, reason] of cases) {
    it(`store with ${name} -> 'unavailable', and leaves no file behind`, async () => {
      const e = await vaultError(new KeychainVault(dir, backend).store(fingerprint(), randomBytes(1024)));
      expectActionable(e, reason);
      expect(readdirSync(dir)).toEqual([]);
    });

    it(`keychainAvailable with ${name} -> not ok, with the reason`, async () => {
      const r = await keychainAvailable(backend);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(reason);
    });
  }

  it("load with no D-Bus session -> 'unavailable'", async () => {
    const fp = fingerprint();
    writeWrappedFile(fp);
    expectActionable(await vaultError(new KeychainVault(dir, noDbusSession).load(fp)), /no D-Bus session/);
  });

  it("load from a locked keyring -> 'unavailable', not 'missing', although the lookup answers null", async () => {
    const fp = fingerprint();
    writeWrappedFile(fp);
    expectActionable(await vaultError(new KeychainVault(dir, lockedKeyring).load(fp)), /keyring is locked/);
  });

  it("a keychain that never answers -> 'unavailable' after the timeout, not a hang", async () => {
    vi.useFakeTimers();
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    const hung: KeychainBackend = {
      getPassword: () => (asked(), new Promise(() => undefined)),
      setPassword: () => new Promise(() => undefined),
      deletePassword: () => new Promise(() => undefined),
    };
    const fp = fingerprint();
    writeWrappedFile(fp);
    const loading = vaultError(new KeychainVault(dir, hung).load(fp));
    await wasAsked;
    await vi.advanceTimersByTimeAsync(30_000);
    expectActionable(await loading, /did not answer within 30 s/);

    const probing = keychainAvailable(hung);
    await vi.advanceTimersByTimeAsync(5_000);
    const r = await probing;
    expect(!r.ok && r.reason).toMatch(/did not answer within 5 s/);
  });

  it('keytar failing to load, and unknown failures, become one line without a stack', () => {
    const load = keychainError(new KeytarLoadError(new Error('libsecret-1.so.0: cannot open shared object file: No such file or directory')));
    expectActionable(load, /keytar native module could not be loaded: libsecret-1\.so\.0/);
    const unknown = new Error('Something new from libsecret\nwith detail');
    expectActionable(keychainError(unknown), /\(Something new from libsecret\)/);
  });

  it('rejects something that is not a fingerprint before touching the keychain or the disk', async () => {
    const e = await vaultError(new KeychainVault(dir, noDbusSession).load('../../etc/passwd'));
    expect(e.message).toMatch(/is not a key-set fingerprint/);
  });
});

describe('PassphraseVault', () => {
  const passphrase = 'correct horse battery staple';
  const secretKey = randomBytes(200_000);
  const fp = fingerprint();
  let stored: string;

  // scrypt at the production N=2^17 costs ~0.3 s per store or load, so one stored vault serves every case.
  beforeAll(async () => {
    stored = mkdtempSync(join(tmpdir(), 'homopai-pvault-'));
    await new PassphraseVault(stored, passphrase).store(fp, secretKey);
    return () => rmSync(stored, { recursive: true, force: true });
  });

  it('round-trips the secret key, and the file does not contain it', async () => {
    expect(Buffer.from(await new PassphraseVault(stored, passphrase).load(fp)).equals(secretKey)).toBe(true);
    const file = readFileSync(passphraseVaultPath(stored, fp));
    // Readable by its owner only.
    expect(statSync(passphraseVaultPath(stored, fp)).mode & 0o777).toBe(0o600);
    expect(file.includes(secretKey.subarray(1000, 1064))).toBe(false);
    expect(file.includes(secretKey.toString('base64').slice(0, 64))).toBe(false);
  });

  it("wrong passphrase -> 'wrong-passphrase'", async () => {
    expect((await vaultError(new PassphraseVault(stored, 'incorrect horse battery').load(fp))).code).toBe('wrong-passphrase');
  });

  it("one altered byte of the sealed key -> refused", async () => {
    const path = passphraseVaultPath(dir, fp);
    copyFileSync(passphraseVaultPath(stored, fp), path);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { box: { data: string } };
    const i = file.box.data.length >> 1;
    file.box.data = file.box.data.slice(0, i) + (file.box.data[i] === 'A' ? 'B' : 'A') + file.box.data.slice(i + 1);
    writeFileSync(path, JSON.stringify(file));
    // GCM cannot tell a wrong passphrase from altered bytes; the message names both.
    const e = await vaultError(new PassphraseVault(dir, passphrase).load(fp));
    expect(e.code).toBe('wrong-passphrase');
    expect(e.message).toMatch(/was altered/);
  });

  it("a file that is not a vault -> 'tampered', saying whether it is not JSON or not a vault", async () => {
    const path = passphraseVaultPath(dir, fp);
    writeFileSync(path, '{"format":"homopai.passphrase-vault"');
    const notJson = await vaultError(new PassphraseVault(dir, passphrase).load(fp));
    expect([notJson.code, notJson.message]).toEqual(['tampered', `vault file ${path} is not valid JSON (damaged or altered)`]);
    writeFileSync(path, '{"format":"homopai.passphrase-vault"}');
    const notVault = await vaultError(new PassphraseVault(dir, passphrase).load(fp));
    expect(notVault.code).toBe('tampered');
    expect(notVault.message).toMatch(new RegExp(`^vault file ${path} is malformed: \\S`));
  });

  it('replaces the sealed key whole, and destroys it by overwriting the file before unlinking it', async () => {
    const vault = new PassphraseVault(dir, passphrase);
    const path = passphraseVaultPath(dir, fp);
    copyFileSync(passphraseVaultPath(stored, fp), path);
    const rotated = randomBytes(64);
    await vault.replace(fp, rotated);
    expect(Buffer.from(await vault.load(fp)).equals(rotated)).toBe(true);
    // A second name for the same file, as a backup tool or an attacker might keep: it sees the overwrite.
    const alias = join(dir, 'alias');
    linkSync(path, alias);
    const sealed = readFileSync(alias);
    await vault.destroy(fp);
    expect(existsSync(path)).toBe(false);
    const left = readFileSync(alias);
    expect(left.length).toBe(sealed.length);
    expect(left.equals(sealed)).toBe(false);
    expect(left.includes(Buffer.from('homopai.passphrase-vault'))).toBe(false);
    // Destroying what is not there is done already.
    await expect(vault.destroy(fp)).resolves.toBeUndefined();
  });

  it("wrong fingerprint -> 'missing', or 'tampered' when another key set's vault is put in its place", async () => {
    const other = fingerprint();
    const missing = await vaultError(new PassphraseVault(stored, passphrase).load(other));
    expect([missing.code, missing.message]).toEqual(['missing', `no passphrase vault for key set ${other.slice(0, 16)} at ${passphraseVaultPath(stored, other)}`]);
    copyFileSync(passphraseVaultPath(stored, fp), passphraseVaultPath(dir, other));
    const e = await vaultError(new PassphraseVault(dir, passphrase).load(other));
    expect(e.code).toBe('tampered');
    expect(e.message).toBe(`vault file ${passphraseVaultPath(dir, other)} belongs to key set ${fp.slice(0, 16)}, not ${other.slice(0, 16)}`);
  });

  it('refuses a passphrase shorter than 10 characters, and takes one of 10', async () => {
    expect((await vaultError(new PassphraseVault(dir, 'short').store(fp, secretKey))).code).toBe('wrong-passphrase');
    expect((await vaultError(new PassphraseVault(dir, '123456789').store(fp, secretKey))).message).toBe('the passphrase must be at least 10 characters');
    await new PassphraseVault(dir, '1234567890').store(fp, secretKey.subarray(0, 32));
    expect(Buffer.from(await new PassphraseVault(dir, '1234567890').load(fp)).equals(secretKey.subarray(0, 32))).toBe(true);
  });

  it('refuses a vault whose IV or tag has another length before any key is derived', async () => {
    const text = readFileSync(passphraseVaultPath(stored, fp), 'utf8');
    const file = JSON.parse(text) as { box: { iv: string; tag: string } };
    const shortIv = JSON.stringify({ ...file, box: { ...file.box, iv: randomBytes(8).toString('base64') } });
    const shortTag = JSON.stringify({ ...file, box: { ...file.box, tag: Buffer.from(file.box.tag, 'base64').subarray(0, 4).toString('base64') } });
    for (const [altered, rule] of [[shortIv, 'the IV must be 12 bytes'], [shortTag, 'the tag must be 16 bytes']] as const) {
      const e = await vaultError(openWithPassphrase(altered, fp, passphrase, 'the vault'));
      expect([e.code, e.message]).toEqual(['tampered', `the vault is malformed: ${rule}`]);
    }
  });
});

describe('sealed box', () => {
  const key = randomBytes(32);
  const plaintext = randomBytes(64);

  it('opens only with its key, its key set and every byte as sealed: anything else is null, never a wrong key', () => {
    const box = seal(key, plaintext, 'fp-1');
    expect(Buffer.from(open(key, box, 'fp-1')!).equals(plaintext)).toBe(true);
    expect(open(randomBytes(32), box, 'fp-1')).toBeNull();
    expect(open(key, box, 'fp-2')).toBeNull();
    const data = Buffer.from(box.data, 'base64');
    data[0]! ^= 1;
    expect(open(key, { ...box, data: data.toString('base64') }, 'fp-1')).toBeNull();
    // A tag cut to 4 bytes, which Node's GCM would otherwise check as a 32-bit tag.
    expect(open(key, { ...box, tag: Buffer.from(box.tag, 'base64').subarray(0, 4).toString('base64') }, 'fp-1')).toBeNull();
    // An empty IV makes the cipher itself throw: still null.
    expect(open(key, { ...box, iv: '' }, 'fp-1')).toBeNull();
  });
});
