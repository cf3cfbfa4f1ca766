import { breathe } from '../common/jobs.ts';
import { ciphertextIds, rowChecker } from '../store/ciphertexts.ts';
import type { Db } from '../store/db.ts';
import type { RowMac } from '../store/row-mac.ts';

// Hashing is CPU-bound: yield this often so other calls (and cancellation) are not held up by a large store.
const SLICE_MS = 20;

/**
 * Batches with at least one ciphertext whose bytes no longer match the SHA-256 recorded at import (disk
 * damage, or an edit of the database) or, given the key, whose integrity tag does not match. One blob is in
 * memory at a time, fetched by id, because an open iterator would keep the connection busy across the yields.
 */
export async function damagedBatches(db: Db, mac: RowMac | null): Promise<Set<number>> {
  const stamp = writeStamp(db);
  const last = lastScan.get(db);
  // A scan under way for the same state (one started at unlock) is joined, not repeated.
  if (last && last.stamp === stamp && last.mac === mac) return new Set(await last.damaged);
  // Stamped before the scan: a write during it makes the next call scan again.
  const damaged = scan(db, mac);
  lastScan.set(db, { stamp, mac, damaged });
  damaged.catch(() => lastScan.delete(db));
  return new Set(await damaged);
}

/*
 * A scan reads every blob (hundreds of MB at a million patients), so its answer is kept while the database is
 * unchanged: SQLite's data_version moves when any other connection or process commits (sqlite3 on the file,
 * included), total_changes when this connection writes. A change outside SQLite's own writes (bytes patched
 * into the file while it is open) is seen at the next commit or on reopening.
 */
const lastScan = new WeakMap<Db, { stamp: string; mac: RowMac | null; damaged: Promise<Set<number>> }>();

function writeStamp(db: Db): string {
  return `${db.pragma('data_version', { simple: true })}:${db.prepare('SELECT total_changes()').pluck().get()}`;
}

async function scan(db: Db, mac: RowMac | null): Promise<Set<number>> {
  const damaged = new Set<number>();
  const fails = rowChecker(db, mac);
  let sliceStart = performance.now();
  for (const [id, batchId] of ciphertextIds(db)) {
    if (damaged.has(batchId)) continue;
    // A row rolled back by an import cancelled meanwhile is simply gone.
    if (fails(id)) damaged.add(batchId);
    if (performance.now() - sliceStart > SLICE_MS) {
      await breathe();
      sliceStart = performance.now();
    }
  }
  return damaged;
}
