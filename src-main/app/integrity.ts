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
