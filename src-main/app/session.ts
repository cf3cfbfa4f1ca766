import type { Progress, Role } from '../../src-preload/contract.ts';
import { type Caller, callerFor } from '../services/caller.ts';
import type { DecryptedRun } from '../services/decrypted-run.ts';
import type { KeyHolder } from '../services/key-sets.ts';
import type { JobHooks } from '../common/jobs.ts';
import { Workspace } from '../store/workspace.ts';
import { keychainAvailable } from '../vault/keychain.ts';

export const DEFAULT_IDLE_LOCK_MS = 15 * 60 * 1000;
// The probe writes to the keychain and may wait seconds on D-Bus: not on every status call.
const KEYCHAIN_PROBE_TTL_MS = 30_000;

export interface SessionOptions {
  workspaceDir: string;
  emit(p: Progress): void;
  idleLockMs: number;
}

type KeychainState = { ok: true } | { ok: false; reason: string };

/**
 * The one workspace, who is working in it and with which credential, and the jobs running in it. The role is
 * what the credential unlocked gives: the researcher holds the secret key, the clinician the integrity key only
 * (imports, never decrypts), the auditor nothing secret. Locking (by the user, or after idle time) ends the
 * session: keys are zeroed, the role is dropped and running jobs are cancelled.
 */
export class Session {
  readonly workspaceDir: string;
  private readonly emit: (p: Progress) => void;
  private readonly idleLockMs: number;
  private ws: Workspace | null = null;
  private active: { holder: KeyHolder | null; role: Role } | null = null;
  /** The run the key holder last decrypted, paged to the renderer; destroyed whenever the session ends or changes. */
  private decrypted: DecryptedRun | null = null;
  private readonly jobs = new Map<string, AbortController>();
  private writes: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private keychain: { at: number; state: Promise<KeychainState> } | null = null;
  /** Paths the user chose in the file dialog: the only files the renderer may have read. */
  private readonly picked = new Set<string>();

  constructor(opts: SessionOptions) {
    this.workspaceDir = opts.workspaceDir;
    this.emit = opts.emit;
    this.idleLockMs = opts.idleLockMs;
  }

  workspace(): Workspace {
    // Once disposed (the app quitting), nothing opens the file again: a lock whose audit entry was still queued
    // would otherwise reopen it and leave the connection behind.
    if (this.disposed) throw new Error('the app is closing: its workspace is closed');
    this.ws ??= Workspace.open(this.workspaceDir);
    return this.ws;
  }

  get role(): Role | null {
    return this.active?.role ?? null;
  }

  /** The unlocked secret key; the role check normally refuses first, this guards the key itself. */
  holder(): KeyHolder {
    const holder = this.active?.holder;
    if (!holder?.unlocked) throw new Error("decrypting needs the key holder's secret key: unlock as researcher");
    return holder;
  }

  /** The secret key when this session holds it (the researcher), else null: work then goes without it. */
  holderIfHeld(): KeyHolder | null {
    return this.active?.holder?.unlocked ? this.active.holder : null;
  }

  /**
   * Starts a session under the role its credential gives. The workspace already holds the integrity key the
   * credential unlocked (KeyHolder.unlock, unlockIntegrity), or none for an auditor.
   */
  begin(role: Role, holder: KeyHolder | null): void {
    this.active?.holder?.lock();
    this.dropDecrypted();
    if (role === 'auditor') this.workspace().dropRowMac();
    this.active = { holder, role };
  }

  /** Ends the session; the audit entry is written once any cancelled work has rolled back. */
  async lock(reason: 'user' | 'idle'): Promise<void> {
    const ending = this.active;
    if (!ending) return;
    this.active = null;
    ending.holder?.lock();
    this.dropDecrypted();
    const cancelled = this.cancelAll();
    // Queued behind the cancelled jobs, so it is written once they have rolled back.
    await this.write(() => this.callerAs(ending.role).audit('lock', { reason, jobsCancelled: cancelled }));
    // After the audit, which waits for the cancelled jobs to roll back: they stop as cancelled, not keyless.
    // Unless someone unlocked meanwhile, whose session needs the key.
    if (this.active === null) this.ws?.dropRowMac();
  }

  /**
   * Holds a decrypted run for paging, in place of the one held before (one run at a time), if the key holder
   * who decrypted it is still the session's: a Lock during the decryption must not leave its result behind.
   */
  holdDecrypted(run: DecryptedRun, decryptedBy: KeyHolder): DecryptedRun {
    if (this.active?.holder !== decryptedBy || !decryptedBy.unlocked) {
      run.destroy();
      throw new Error('the session was locked while the run was being decrypted: unlock and decrypt it again');
    }
    if (this.decrypted !== run) this.dropDecrypted();
    this.decrypted = run;
    return run;
  }

  /** The decrypted run being paged; refused once the session ended or another run was decrypted. */
  heldDecrypted(runId: number): DecryptedRun {
    if (this.decrypted?.runId !== runId || !this.decrypted.held) {
      throw new Error(`run ${runId} is not decrypted in this session (or was cleared on lock): decrypt it again`);
    }
    return this.decrypted;
  }

  private dropDecrypted(): void {
    this.decrypted?.destroy();
    this.decrypted = null;
  }

  /** Restarts the idle countdown; called on every API call. */
  touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.idle(), this.idleLockMs);
    // A pending auto-lock must not keep a test process or a closing app alive.
    this.idleTimer.unref();
  }

  private idle(): void {
    // A long import or benchmark counts as activity: locking would cancel it.
    if (this.jobs.size > 0) return this.touch();
    this.lock('idle').catch((e: unknown) => console.error('homopai: idle lock could not be audited:', e));
  }

  remember(path: string): void {
    this.picked.add(path);
  }

  /** Refuses a path the dialog did not return: a compromised renderer must not name arbitrary files to read. */
  requirePicked(path: string): string {
    if (!this.picked.has(path)) throw new Error(`${path} was not chosen in this session's file dialog: choose it there first`);
    return path;
  }

  /** Registers cancellable work under the renderer's job id and forwards its progress. */
  async job<T>(jobId: string, work: (hooks: JobHooks) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) throw new Error(`a job with id ${jobId} is already running`);
    const controller = new AbortController();
    this.jobs.set(jobId, controller);
    try {
      return await work({ signal: controller.signal, onProgress: (p) => this.emit({ jobId, ...p }) });
    } finally {
      this.jobs.delete(jobId);
    }
  }

  cancel(jobId: string): boolean {
    const controller = this.jobs.get(jobId);
    controller?.abort();
    return controller !== undefined;
  }

  private cancelAll(): number {
    for (const controller of this.jobs.values()) controller.abort();
    return this.jobs.size;
  }

  /** The session's caller of use cases: the workspace, recorded under the unlocked role. */
  caller(): Caller {
    return this.callerAs(this.role);
  }

  /** A caller recorded under a role about to begin (unlocking) or just ended (locking). */
  callerAs(role: Role | null): Caller {
    return callerFor(this.workspace(), { role: role ?? 'none', via: 'app' });
  }

  /**
   * Runs writes to the workspace one at a time. Import and prediction hold a SQLite transaction across
   * awaits on the one connection; any write interleaved with them (an audit entry above all) would join
   * that transaction and vanish with it on cancel. Every use case runs in here; never call write() from inside `work`.
   */
  write<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.writes.then(work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  keychainState(): Promise<KeychainState> {
    const now = Date.now();
    if (!this.keychain || now - this.keychain.at > KEYCHAIN_PROBE_TTL_MS) {
      this.keychain = { at: now, state: keychainAvailable() };
    }
    return this.keychain.state;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleTimer);
    this.cancelAll();
    this.active?.holder?.lock();
    this.dropDecrypted();
    this.active = null;
    this.ws?.[Symbol.dispose]();
    this.ws = null;
  }
}
