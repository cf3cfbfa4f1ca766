import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Db, inTransaction, openDatabase } from './db.ts';
import { migrate } from './migrations.ts';
import { activeKeySet, type KeySetRow } from './keysets.ts';
import { IntegrityKeyError, type RowMac } from './row-mac.ts';

/** The per-user folder Electron's app.getPath('userData') uses, so the CLI and the app share a workspace. */
export function appDataDir(): string {
  const home = homedir();
  switch (process.platform) {
    case 'win32':
      return join(process.env['APPDATA'] ?? join(home, 'AppData', 'Roaming'), 'HomoPAI');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'HomoPAI');
    default:
      return join(process.env['XDG_CONFIG_HOME'] ?? join(home, '.config'), 'HomoPAI');
  }
}

export function defaultWorkspaceDir(): string {
  return join(appDataDir(), 'workspace');
}

export class NoKeySetError extends Error {
  constructor() {
    super('this workspace has no key set yet: create one first (homopai init, or "Create key set" in the app)');
    this.name = 'NoKeySetError';
  }
}

/** One folder: the SQLite ciphertext store plus the vault files of its key sets. */
export class Workspace implements Disposable {
  readonly dir: string;
  readonly db: Db;
  private mac: RowMac | null = null;
  private committed: (() => void)[] = [];

  private constructor(dir: string, db: Db) {
    this.dir = dir;
    this.db = db;
  }

  static open(dir: string = defaultWorkspaceDir()): Workspace {
    return new Workspace(dir, openDatabase(dir, migrate));
  }

  requireKeySet(): KeySetRow {
    const k = activeKeySet(this.db);
    if (!k) throw new NoKeySetError();
    return k;
  }

  /**
   * Runs async work in one SQLite transaction (inTransaction): all of it commits or none of it. What was
   * deferred to the commit (afterCommit) runs once it has happened, and is dropped on a rollback.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await inTransaction(this.db, work);
      this.flushCommitted();
      return result;
    } finally {
      this.committed = [];
    }
  }

  /** Runs `fn` now, or, inside a transaction, once it has committed. */
  afterCommit(fn: () => void): void {
    if (this.db.inTransaction) this.committed.push(fn);
    else fn();
  }

  private flushCommitted(): void {
    const pending = this.committed;
    this.committed = [];
    for (const fn of pending) fn();
  }

  /**
   * Authenticates rows from now on with this key (services/key-sets.ts derives it). The same key set's key is
   * already the one in use: it is kept (jobs running with it go on) and the copy zeroed; another key set's
   * replaces it.
   */
  useRowMac(mac: RowMac): void {
    if (this.mac?.fingerprint === mac.fingerprint) {
      mac.destroy();
      return;
    }
    this.dropRowMac();
    this.mac = mac;
  }

  /** Zeroes the row key: the key holder locked. */
  dropRowMac(): void {
    this.mac?.destroy();
    this.mac = null;
  }

  /** The key that tags and verifies stored ciphertext rows, or IntegrityKeyError when none is loaded. */
  rowMac(): RowMac {
    if (!this.mac) throw new IntegrityKeyError();
    return this.mac;
  }

  /** The row key if one is loaded: a keyless caller can still see damage, not forgery. */
  rowMacIfLoaded(): RowMac | null {
    return this.mac;
  }

  [Symbol.dispose](): void {
    this.dropRowMac();
    if (this.db.open) this.db.close();
  }
}
