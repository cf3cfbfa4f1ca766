import { breathe } from '../services/progress.ts';
import { sha256Hex } from '../store/ciphertexts.ts';
import type { Db } from '../store/db.ts';

// Hashing is CPU-bound: yield this often so other calls (and cancellation) are not held up by a large store.
const SLICE_MS = 20;

/**
 * Batches with at least one ciphertext whose bytes no longer match the SHA-256 recorded at import (disk
 * damage, or an edit of the database). One blob is in memory at a time, fetched by id, because an open
 * iterator would keep the connection busy across the yields.
 */
export async function damagedBatches(db: Db): Promise<Set<number>> {
  const ids = db.prepare('SELECT id, batch_id FROM ciphertexts ORDER BY id').raw().all() as [number, number][];
  const blob = db.prepare('SELECT bytes, sha256 FROM ciphertexts WHERE id = ?');
  const damaged = new Set<number>();
  let sliceStart = performance.now();
  for (const [id, batchId] of ids) {
    if (damaged.has(batchId)) continue;
    // A row rolled back by an import cancelled meanwhile is simply gone.
    const row = blob.get(id) as { bytes: Buffer; sha256: string } | undefined;
    if (row && sha256Hex(row.bytes) !== row.sha256) damaged.add(batchId);
    if (performance.now() - sliceStart > SLICE_MS) {
      await breathe();
      sliceStart = performance.now();
    }
  }
  return damaged;
}
