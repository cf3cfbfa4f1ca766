import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passphraseVaultPath } from '../../src-main/vault/passphrase.ts';
import { integrityKeyId } from '../../src-main/services/key-sets.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE } from '../helpers/workspace.ts';

/*
 * Roles are what a credential opens, not what someone declares. The attacker here is each role trying to do
 * more than its credential allows: a clinician with only the clinicians' passphrase, an auditor with nothing.
 * The key holder's vault file is moved off the machine while they work, so "the secret key was never read"
 * is a fact of the file system, not a claim about code paths.
 */
const CLINICIANS = 'ward seven import key';
/** Environments with exactly one credential each; '' hides a passphrase the test runner might have set. */
const AS_KEY_HOLDER = { HOMOPAI_PASSPHRASE: PASSPHRASE, HOMOPAI_CLINICIAN_PASSPHRASE: '' };
const AS_CLINICIAN = { HOMOPAI_PASSPHRASE: '', HOMOPAI_CLINICIAN_PASSPHRASE: CLINICIANS };
const AS_AUDITOR = { HOMOPAI_PASSPHRASE: '', HOMOPAI_CLINICIAN_PASSPHRASE: '' };

describe('roles by the credential each holds', () => {
  let dir: string;
  let ws: string;
  let secretVault: string;
  let cliniciansVault: string;
  const away = (path: string): string => join(dir, `away-${path.split('/').at(-1)}`);

  async function run(env: Record<string, string>, args: string[]) {
    return homopai([...args, '--workspace', ws], env);
  }
  async function ok(env: Record<string, string>, args: string[]): Promise<string> {
    const r = await run(env, args);
    if (r.code !== 0) throw new Error(`homopai ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }
  async function auditEntries(): Promise<{ action: string; role: string; detail: Record<string, unknown> }[]> {
    const out = join(dir, `audit-${Date.now()}.jsonl`);
    await ok(AS_AUDITOR, ['audit', 'export', '--out', out]);
    return readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homopai-roles-'));
    ws = join(dir, 'ws');
    const init = JSON.parse(await ok({ ...AS_KEY_HOLDER, HOMOPAI_CLINICIAN_PASSPHRASE: CLINICIANS }, ['init', '--json']));
    expect(init.clinicianCredential).toBe(true);
    secretVault = passphraseVaultPath(ws, init.fingerprint);
    cliniciansVault = passphraseVaultPath(ws, integrityKeyId(init.fingerprint));
    await ok(AS_KEY_HOLDER, ['train', SAMPLE]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a clinician imports with the clinicians’ credential while the key holder’s vault is not on the machine', async () => {
    renameSync(secretVault, away(secretVault));
    try {
      const r = JSON.parse(await ok(AS_CLINICIAN, ['import', SAMPLE, '--json']));
      expect(r).toMatchObject({ rows: 19 });
      // With the secret key out of reach, the clinician can neither decrypt nor pass the clinicians' passphrase as the key holder's.
      expect((await run(AS_CLINICIAN, ['predict'])).stderr).toMatch(/needs the vault passphrase: set HOMOPAI_PASSPHRASE/);
      const posing = await run({ ...AS_CLINICIAN, HOMOPAI_PASSPHRASE: CLINICIANS }, ['predict']);
      expect(posing.code).toBe(1);
      expect(posing.stderr).toMatch(/no passphrase vault for key set/);
    } finally {
      renameSync(away(secretVault), secretVault);
    }
    // Back on the machine, the clinicians' passphrase still does not open it.
    const posing = await run({ ...AS_CLINICIAN, HOMOPAI_PASSPHRASE: CLINICIANS }, ['predict']);
    expect(posing.code).toBe(1);
    expect(posing.stderr).toMatch(/wrong passphrase|could not be opened/i);
    const entries = await auditEntries();
    expect(entries.filter((e) => e.action === 'import').map((e) => e.role)).toEqual(['clinician']);
  });

  it('an auditor verifies the log and reads the release rule with no credential and no vault at all', async () => {
    renameSync(secretVault, away(secretVault));
    renameSync(cliniciansVault, away(cliniciansVault));
    try {
      expect(await ok(AS_AUDITOR, ['audit', 'verify'])).toMatch(/^activity log intact: \d+ entries/);
      expect(JSON.parse(await ok(AS_AUDITOR, ['policy', '--json']))).toMatchObject({ policy: { minPatients: 5 } });
      const decrypting = await run(AS_AUDITOR, ['predict']);
      expect(decrypting.code).toBe(1);
      expect(decrypting.stderr).toMatch(/needs the vault passphrase/);
      // Changing the rule is the key holder's: refused without the secret key's vault.
      expect((await run(AS_AUDITOR, ['policy', 'set', '--min-patients', '9'])).code).toBe(1);
    } finally {
      renameSync(away(secretVault), secretVault);
      renameSync(away(cliniciansVault), cliniciansVault);
    }
    const exports = (await auditEntries()).filter((e) => e.action === 'export');
    expect(exports.length).toBeGreaterThan(0);
    expect(new Set(exports.map((e) => e.role))).toEqual(new Set(['auditor']));
  });

  it('records the key holder as researcher only when the secret key was opened', async () => {
    await ok(AS_KEY_HOLDER, ['predict']);
    const entries = await auditEntries();
    expect(entries.filter((e) => e.action === 'unlock' || e.action === 'decrypt').every((e) => e.role === 'researcher')).toBe(true);
    expect(entries.filter((e) => e.action === 'predict').map((e) => e.role)).toEqual(['researcher']);
  });

  it('gives clinicians nothing until the key holder grants their credential, and then only the integrity key', async () => {
    const later = join(dir, 'later');
    const r = (env: Record<string, string>, args: string[]) => homopai([...args, '--workspace', later], env);
    expect((await r(AS_KEY_HOLDER, ['init'])).code).toBe(0);
    const before = await r(AS_CLINICIAN, ['import', SAMPLE]);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/no clinicians' credential yet: the key holder grants it with homopai keys grant-clinicians/);
    expect((await r({ ...AS_KEY_HOLDER, HOMOPAI_CLINICIAN_PASSPHRASE: CLINICIANS }, ['keys', 'grant-clinicians'])).code).toBe(0);
    expect((await r(AS_CLINICIAN, ['import', SAMPLE])).code).toBe(0);
    expect((await r(AS_CLINICIAN, ['predict'])).code).toBe(1);
  });
});
