import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export type Db = Database.Database;

export const DB_FILE = 'homopai.db';

/**
 * The workspace is its owner's alone: the folder 0700, the database and its WAL and shared-memory files 0600
 * (SQLite gives the WAL and -shm files the database's mode), so another account on the workstation cannot copy
 * the store to work on it offline. Existing files are tightened too.
 */
function ownerOnly(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, DB_FILE);
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
  return path;
}

/**
 * Opens (creating if needed) a workspace database; `upgrade` brings its schema up to date (store/migrations.ts,
 * which depends on the store's modules and so is passed in rather than imported here).
 */
export function openDatabase(dir: string, upgrade: (db: Db) => void): Db {
  const db = new Database(ownerOnly(dir));
  try {
    // WAL: readers (the app's views) never block the importer; FULL sync so a commit survives power loss.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Temp b-trees in memory: sorts over patient metadata must not spill anything to /tmp.
    db.pragma('temp_store = MEMORY');
    upgrade(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Runs async work inside one SQLite transaction (better-sqlite3's `transaction()` is synchronous only):
 * all of it commits, or on any error or cancellation none of it does.
 */
export async function inTransaction<T>(db: Db, work: () => Promise<T>): Promise<T> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = await work();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

