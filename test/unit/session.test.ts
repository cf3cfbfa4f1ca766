import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Progress } from '../../src-preload/contract.ts';
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
  const open = (idleLockMs = 60_000, emit: (p: Progress) => void = () => undefined): Session => {
    const s = new Session({ workspaceDir: tmp.dir, emit, idleLockMs });
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
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  const lockEntries = (s: Session) => listAudit(s.workspace().db, { action: 'lock' }).length;

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
    // And so is the run of a key holder still unlocked but no longer the session's.
    const previous = await KeyHolder.unlock(s.workspace(), vault);
    const stray = run(6);
    expect(() => s.holdDecrypted(stray, previous)).toThrow(/locked while the run was being decrypted/);
    expect(stray.held).toBe(false);
    previous.lock();
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

  it('begins a new session from any other, locking what the last one held and destroying its run', async () => {
    const s = open();
    s.begin('auditor', null);
    s.begin('auditor', null);
    const first = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', first);
    const held = s.holdDecrypted(run(1), first);
    // Held again, the same run stays held.
    expect(s.holdDecrypted(held, first)).toBe(held);
    expect(held.held).toBe(true);
    const second = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', second);
    expect(first.unlocked).toBe(false);
    expect(held.held).toBe(false);
    expect(s.holder()).toBe(second);
  });

  it('refuses a run decrypted by the session’s own key holder once that holder is locked', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    holder.lock();
    const late = run(5);
    expect(() => s.holdDecrypted(late, holder)).toThrow(/locked while the run was being decrypted/);
    expect(late.held).toBe(false);
  });

  it('locks a session without a key holder, and a session with none ends without an entry', async () => {
    const s = open();
    const before = lockEntries(s);
    await s.lock('user');
    expect(lockEntries(s)).toBe(before);
    s.begin('auditor', null);
    await s.lock('user');
    expect(lockEntries(s)).toBe(before + 1);
    expect(s.role).toBeNull();
  });

  it('keeps the row key for whoever unlocked while the lock was being recorded', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    const rowMac = holder.rowMac();
    s.begin('researcher', holder);
    const locking = s.lock('user');
    // A clinician unlocks before the lock's entry is written.
    s.workspace().useRowMac(rowMac);
    s.begin('clinician', null);
    await locking;
    expect(s.role).toBe('clinician');
    expect(s.workspace().rowMacIfLoaded()).not.toBeNull();
  });

  it('forwards a job’s progress under its id, and cancels it by that id', async () => {
    const progress: unknown[] = [];
    const s = open(60_000, (p) => progress.push(p));
    let signal: AbortSignal | undefined;
    const job = s.job('j2', async (hooks) => {
      signal = hooks.signal;
      hooks.onProgress?.({ phase: 'encrypting', done: 4096, total: null });
      await new Promise<void>((r) => hooks.signal?.addEventListener('abort', () => r()));
      return 'stopped';
    });
    expect(s.cancel('j2')).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(await job).toBe('stopped');
    expect(progress).toEqual([{ jobId: 'j2', phase: 'encrypting', done: 4096, total: null }]);
  });

  it('counts idle time from the last call, on a timer that keeps no process alive', () => {
    vi.useFakeTimers();
    const s = open(200);
    s.begin('auditor', null);
    s.touch();
    expect((s as unknown as { idleTimer: NodeJS.Timeout }).idleTimer.hasRef()).toBe(false);
    vi.advanceTimersByTime(150);
    s.touch();
    vi.advanceTimersByTime(100);
    expect(s.role).toBe('auditor');
    vi.advanceTimersByTime(150);
    expect(s.role).toBeNull();
  });

  it('reports an idle lock that could not be recorded instead of dropping the error', async () => {
    vi.useFakeTimers();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = open(100);
    s.begin('auditor', null);
    // The workspace's database is gone: the lock's entry cannot be written.
    s.workspace().db.close();
    s.touch();
    vi.advanceTimersByTime(150);
    vi.useRealTimers();
    await expect.poll(() => errors.mock.calls.length).toBe(1);
    expect(errors.mock.calls[0]![0]).toBe('homopai: idle lock could not be audited:');
    expect(s.role).toBeNull();
  });

  it('opens nothing once disposed: a lock whose audit entry is still queued when the app quits is refused', async () => {
    const s = open();
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    const locking = s.lock('user');
    s.dispose();
    await expect(locking).rejects.toThrow('the app is closing: its workspace is closed');
    expect(() => s.workspace()).toThrow('the app is closing');
    expect(holder.unlocked).toBe(false);
  });

  it('on dispose, locks the key holder, destroys the held run, cancels jobs and leaves no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new Session({ workspaceDir: tmp.dir, emit: () => undefined, idleLockMs: 60_000 });
    const holder = await KeyHolder.unlock(s.workspace(), vault);
    s.begin('researcher', holder);
    const held = s.holdDecrypted(run(1), holder);
    let signal: AbortSignal | undefined;
    void s.job('j3', async (hooks) => {
      signal = hooks.signal;
      await new Promise(() => undefined);
    });
    s.touch();
    expect(vi.getTimerCount()).toBe(1);
    s.dispose();
    expect(holder.unlocked).toBe(false);
    expect(held.held).toBe(false);
    expect(signal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
