import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src-main/app/session.ts';
import { listAudit } from '../../src-main/audit/log.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { caller } from '../helpers/caller.ts';
import { heldRunOf } from '../helpers/decrypted-run.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/* The app's session: who holds which key, what it may read, and what ends with it. Real workspace and vault. */
describe('the session', () => {
  const tmp = tempDir('homopai-session-');
  let vault: PassphraseVault;
  const sessions: Session[] = [];
  const open = (idleLockMs = 60_000): Session => {
    const s = new Session({ workspaceDir: tmp.dir, emit: () => undefined, idleLockMs });
    sessions.push(s);
    return s;
  };
  const run = (runId: number) => heldRunOf(runId, [{ batchId: 1, hospital: 'H', patientId: 'P1', probability: 0.75 }]);

  beforeAll(async () => {
    vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    using ws = Workspace.open(tmp.dir);
    await createKeySet(caller(ws), 'standard', () => vault);
  });
  afterAll(() => {
    for (const s of sessions) s.dispose();
    tmp[Symbol.dispose]();
  });

  it('gives the secret key only to a researcher session that holds it, and the auditor no row key', async () => {
    const s = open();
    expect(s.role).toBeNull();
    expect(() => s.holder()).toThrow(/unlock as researcher/);
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    expect(s.role).toBe('researcher');
    expect(s.holder()).toBe(holder);
    expect(s.holderIfHeld()).toBe(holder);
    // Switching to the auditor locks the key holder and drops the row key: an auditor verifies, never tags.
    s.begin('auditor', null);
    expect(holder.unlocked).toBe(false);
    expect(s.holderIfHeld()).toBeNull();
    expect(() => s.holder()).toThrow(/unlock as researcher/);
    expect(s.workspace().rowMacIfLoaded()).toBeNull();
  });

  it('keeps a clinician the row key and no secret key', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    const rowMac = holder.rowMac();
    holder.lock();
    s.workspace().useRowMac(rowMac);
    s.begin('clinician', null);
    expect(s.workspace().rowMacIfLoaded()).not.toBeNull();
    expect(s.holderIfHeld()).toBeNull();
  });

  it('refuses to keep a run decrypted by a key holder the session no longer has, and destroys it', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    const kept = s.holdDecrypted(run(1), holder);
    expect(s.heldDecrypted(1)).toBe(kept);
    expect(() => s.heldDecrypted(2)).toThrow(/run 2 is not decrypted in this session/);
    // A second run replaces the first, which is destroyed, not merely unreferenced.
    s.holdDecrypted(run(2), holder);
    expect(kept.held).toBe(false);
    expect(() => s.heldDecrypted(1)).toThrow(/not decrypted/);

    // Locked while a decryption was running: its result arrives after the lock and is thrown away.
    await s.lock('user');
    const late = run(3);
    expect(() => s.holdDecrypted(late, holder)).toThrow(/locked while the run was being decrypted/);
    expect(late.held).toBe(false);
    // Another key holder's run is refused the same way.
    const other = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', other);
    const foreign = run(4);
    expect(() => s.holdDecrypted(foreign, holder)).toThrow(/locked while the run was being decrypted/);
    expect(foreign.held).toBe(false);
  });

  it('cancels running jobs on lock, records how many, and refuses a second job under a running id', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    let signal: AbortSignal | undefined;
    let release!: () => void;
    const job = s.job('j1', async (hooks) => {
      signal = hooks.signal;
      await new Promise<void>((r) => (release = r));
      return 'done';
    });
    await expect(s.job('j1', async () => 'twice')).rejects.toThrow(/a job with id j1 is already running/);
    expect(s.cancel('nope')).toBe(false);
    const locking = s.lock('user');
    expect(signal?.aborted).toBe(true);
    release();
    expect(await job).toBe('done');
    await locking;
    const lock = listAudit(s.workspace().db, { action: 'lock' }).at(-1);
    expect(lock).toMatchObject({ role: 'researcher', detail: { reason: 'user', jobsCancelled: 1 } });
    // The id is free again once its job ended.
    expect(await s.job('j1', async () => 'again')).toBe('again');
    expect(s.cancel('j1')).toBe(false);
  });

  it('does not lock for idleness while a job runs, and locks once it has ended', async () => {
    const s = open(100);
    s.begin('auditor', null);
    let release!: () => void;
    const job = s.job('long', () => new Promise<void>((r) => (release = r)));
    s.touch();
    await new Promise((r) => setTimeout(r, 350));
    expect(s.role).toBe('auditor');
    release();
    await job;
    await expect.poll(() => s.role, { timeout: 5_000 }).toBeNull();
  });

  it('reads only files the dialog returned in this session', () => {
    const s = open();
    expect(() => s.requirePicked('/etc/passwd')).toThrow(/not chosen in this session's file dialog/);
    s.remember('/data/ward.csv');
    expect(s.requirePicked('/data/ward.csv')).toBe('/data/ward.csv');
    expect(() => open().requirePicked('/data/ward.csv')).toThrow(/not chosen/);
  });

  it('on dispose, locks the key holder and destroys the held run', async () => {
    const s = new Session({ workspaceDir: tmp.dir, emit: () => undefined, idleLockMs: 60_000 });
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    const held = s.holdDecrypted(run(1), holder);
    s.dispose();
    expect(holder.unlocked).toBe(false);
    expect(held.held).toBe(false);
  });
});
