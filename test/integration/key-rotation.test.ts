import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFor } from '../../src-main/services/caller.ts';
import { rotateKeys } from '../../src-main/services/key-rotation.ts';
import { KeyHolder } from '../../src-main/services/key-sets.ts';
import { namesFor } from '../../src-main/services/names.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { passphraseVaultPath } from '../../src-main/vault/passphrase.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { attempt, cli, cliJson, copyWorkspace, editDb, refused } from '../adversarial/attacker.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/*
 * keys rotate through the CLI, as the key holder runs it, and the rotation interrupted in-process (as Ctrl-C
 * or a crash leaves it). Every check is on the real store: the SQLite file, the vault files, the decrypted
 * predictions.
 */
const BACKUP = { HOMOPAI_PASSPHRASE: PASSPHRASE, HOMOPAI_BACKUP_PASSPHRASE: 'a backup passphrase kept elsewhere' };

interface KeySetListing {
  fingerprint: string;
  state: 'active' | 'rotating' | 'retired';
}

/** The probabilities a prediction run gives, by patient, from the CSV the CLI writes. */
async function predictions(dir: string, out: string): Promise<string[]> {
  await cli(dir, ['predict', '--batches', 'all', '--out', out]);
  return readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 4).join(','));
}

describe('key rotation', () => {
  const tmp = tempDir('homopai-rotate-');
  let base: string;
  let before: string[];
  let oldKey: string;

  beforeAll(async () => {
    base = join(tmp.dir, 'base');
    await cli(base, ['init']);
    await cli(base, ['import', SAMPLE]);
    const model = await cliJson<{ id: string }>(base, ['train', SAMPLE]);
    await cli(base, ['name', 'model', model.id, 'Pilot', 'model']);
    before = await predictions(base, join(tmp.dir, 'before.csv'));
    oldKey = (await cliJson<KeySetListing[]>(base, ['keys', 'list']))[0]!.fingerprint;
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('refuses a second init, naming keys rotate', async () => {
    await refused(copyWorkspace(base, join(tmp.dir, 'init-again')), ['init'], /already has key set .* homopai keys rotate/);
  });

  it('keeps every batch and every earlier run predictable under the new key set, and archives or destroys the old key as asked', async () => {
    for (const old of ['archive', 'destroy'] as const) {
      const dir = copyWorkspace(base, join(tmp.dir, `rotate-${old}`));
      const r = await cliJson(dir, ['keys', 'rotate', '--old', old]);
      expect(r).toMatchObject({ resumed: false, ciphertexts: 6, predictionBlocks: 1, old });
      const sets = await cliJson<KeySetListing[]>(dir, ['keys', 'list']);
      expect(sets.map((k) => [k.fingerprint === oldKey, k.state])).toEqual([
        [false, 'active'],
        [true, 'retired'],
      ]);
      expect(existsSync(passphraseVaultPath(dir, oldKey))).toBe(old === 'archive');
      // The earlier run decrypts under the new key, and a new prediction gives the same figures.
      expect(await cliJson(dir, ['evaluate'])).toMatchObject({ metrics: { accuracy: 1 } });
      expect(await predictions(dir, join(dir, 'after.csv'))).toEqual(before);
      expect(await cli(dir, ['audit', 'verify'])).toMatch(/^activity log intact/);
      // The model's name was tagged again under the new key set: it still verifies, so it is still shown.
      {
        using ws = Workspace.open(dir);
        const holder = await KeyHolder.unlock(ws, new PassphraseVault(dir, PASSPHRASE));
        try {
          expect([...namesFor(ws, 'model').values()]).toEqual(['Pilot model']);
        } finally {
          holder.lock();
        }
      }
      // No row is left under the old key set.
      editDb(dir, (db) => {
        expect(db.prepare('SELECT COUNT(*) FROM batches WHERE key_fingerprint = ?').pluck().get(oldKey)).toBe(0);
        expect(db.prepare('SELECT COUNT(*) FROM prediction_runs WHERE key_fingerprint = ?').pluck().get(oldKey)).toBe(0);
        expect(db.prepare('SELECT COUNT(*) FROM rotation_blocks').pluck().get()).toBe(0);
      });
    }
  });

  it('stops when asked with the old key set still in use, picks up what was imported meanwhile, and resumes', async () => {
    const dir = copyWorkspace(base, join(tmp.dir, 'resume'));
    {
      using ws = Workspace.open(dir);
      const vault = new PassphraseVault(dir, PASSPHRASE);
      const holder = await KeyHolder.unlock(ws, vault);
      const stop = new AbortController();
      try {
        const rotating = rotateKeys(callerFor(ws, { role: 'researcher', via: 'cli' }), holder, vault, { old: 'archive', clinicians: null }, {
          onProgress: () => stop.abort(),
          signal: stop.signal,
        });
        await expect(rotating).rejects.toThrow(/key rotation was cancelled; the blocks re-encrypted so far are kept, and the old key set is still in use/);
      } finally {
        holder.lock();
      }
    }
    expect((await cliJson<KeySetListing[]>(dir, ['keys', 'list'])).map((k) => k.state)).toEqual(['rotating', 'active']);
    // The old key set still works, and a batch imported under it now is carried over too.
    expect(await predictions(dir, join(dir, 'during.csv'))).toEqual(before);
    await cli(dir, ['import', SAMPLE, '--duplicates', 'allow']);
    const r = await cliJson(dir, ['keys', 'rotate', '--old', 'archive']);
    expect(r).toMatchObject({ resumed: true, ciphertexts: 12, predictionBlocks: 2 });
    const after = await predictions(dir, join(dir, 'after.csv'));
    expect(after).toEqual([...before, ...before]);
  });

  it('carries no edit of a block’s patients through a rotation: the new tags bind the patients as written', async () => {
    const dir = copyWorkspace(base, join(tmp.dir, 'patients-edited'));
    // Two patients trade ids in the file; a rotation re-tags every row under the new key set.
    const swap = (): void =>
      editDb(dir, (db) => {
        const [a, b] = db.prepare('SELECT patient_id FROM patients WHERE slot IN (0, 1) ORDER BY slot').pluck().all() as string[];
        const set = db.prepare('UPDATE patients SET patient_id = ? WHERE slot = ?');
        set.run(b, 0);
        set.run(a, 1);
      });
    swap();
    await cli(dir, ['keys', 'rotate', '--old', 'archive']);
    await refused(dir, ['predict', '--batches', 'all', '--out', join(dir, 'swapped.csv')], /the patients of batch 1, block 0 are not those its ciphertexts were written for/);
    swap();
    expect(await predictions(dir, join(dir, 'restored.csv'))).toEqual(before);
  });

  it('refuses a staged blob edited in the file between the stop and the resume, and --abort leaves the old key set as it was', async () => {
    const dir = copyWorkspace(base, join(tmp.dir, 'forged-stage'));
    {
      using ws = Workspace.open(dir);
      const vault = new PassphraseVault(dir, PASSPHRASE);
      const holder = await KeyHolder.unlock(ws, vault);
      const stop = new AbortController();
      try {
        await rotateKeys(callerFor(ws, { role: 'researcher', via: 'cli' }), holder, vault, { old: 'destroy', clinicians: null }, {
          onProgress: () => stop.abort(),
          signal: stop.signal,
        }).catch(() => undefined);
      } finally {
        holder.lock();
      }
    }
    // The attacker swaps two staged ciphertexts (say, a label column for a feature), checksums made consistent.
    editDb(dir, (db) => {
      const [a, b] = db.prepare("SELECT source_key, bytes, sha256 FROM rotation_blocks WHERE source = 'ciphertexts' ORDER BY source_key LIMIT 2").all() as {
        source_key: string;
        bytes: Buffer;
        sha256: string;
      }[];
      const put = db.prepare("UPDATE rotation_blocks SET bytes = ?, sha256 = ? WHERE source = 'ciphertexts' AND source_key = ?");
      put.run(b!.bytes, b!.sha256, a!.source_key);
      put.run(a!.bytes, a!.sha256, b!.source_key);
    });
    await refused(dir, ['keys', 'rotate', '--old', 'destroy'], /re-encrypted ciphertexts row \d+ of rotation \d+ failed verification: its integrity tag does not match/);
    // Nothing was swapped: the old key set is active, its key on disk, and predictions unchanged.
    expect((await cliJson<KeySetListing[]>(dir, ['keys', 'list'])).find((k) => k.fingerprint === oldKey)?.state).toBe('active');
    expect(existsSync(passphraseVaultPath(dir, oldKey))).toBe(true);
    const rotatingTo = (await cliJson<KeySetListing[]>(dir, ['keys', 'list'])).find((k) => k.state === 'rotating')!.fingerprint;
    expect(await cliJson(dir, ['keys', 'rotate', '--abort'])).toMatchObject({ to: rotatingTo });
    expect(existsSync(passphraseVaultPath(dir, rotatingTo))).toBe(false);
    expect((await cliJson<KeySetListing[]>(dir, ['keys', 'list'])).map((k) => k.state)).toEqual(['retired', 'active']);
    expect(await predictions(dir, join(dir, 'after.csv'))).toEqual(before);
  });

  it('backs the secret key up under its own passphrase and restores it once the vault file is lost', async () => {
    const dir = copyWorkspace(base, join(tmp.dir, 'backup'));
    const backup = join(tmp.dir, 'key-backup.json');
    expect((await homopai(['keys', 'backup', '--out', backup, '--workspace', dir], BACKUP)).code).toBe(0);
    expect(readFileSync(backup, 'utf8')).toMatch(/"format":"homopai.passphrase-vault"/);
    renameSync(passphraseVaultPath(dir, oldKey), join(tmp.dir, 'lost.vault.json'));
    expect((await attempt(dir, ['predict'])).stderr).toMatch(/no passphrase vault for key set/);
    const wrong = await homopai(['keys', 'restore', backup, '--workspace', dir], { ...BACKUP, HOMOPAI_BACKUP_PASSPHRASE: 'not the backup passphrase' });
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(existsSync(passphraseVaultPath(dir, oldKey))).toBe(false);
    expect((await homopai(['keys', 'restore', backup, '--workspace', dir], BACKUP)).code).toBe(0);
    expect(await predictions(dir, join(dir, 'after.csv'))).toEqual(before);
  });
});
