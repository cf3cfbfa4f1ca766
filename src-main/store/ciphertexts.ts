import { createHash } from 'node:crypto';
import type { Db } from './db.ts';

export type CiphertextKind = 'feature' | 'label';

export interface StoredCiphertext {
  batchId: number;
  block: number;
  kind: CiphertextKind;
  columnName: string;
  slots: number;
  level: number;
  bytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function insertCiphertext(db: Db, c: StoredCiphertext): void {
  db.prepare(
    `INSERT INTO ciphertexts (batch_id, block, kind, column_name, slots, level, bytes, sha256)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(c.batchId, c.block, c.kind, c.columnName, c.slots, c.level, c.bytes, sha256Hex(c.bytes));
}

/** Whether a stored blob still matches the SHA-256 recorded when it was written. */
export function checksumOk(row: { bytes: Uint8Array; sha256: string }): boolean {
  return sha256Hex(row.bytes) === row.sha256;
}

/** [ciphertext id, batch id] of every stored ciphertext, for a scan that fetches one blob at a time. */
export function ciphertextIds(db: Db): [number, number][] {
  return db.prepare('SELECT id, batch_id FROM ciphertexts ORDER BY id').raw().all() as [number, number][];
}

export function ciphertextById(db: Db, id: number): { bytes: Uint8Array; sha256: string } | null {
  return (db.prepare('SELECT bytes, sha256 FROM ciphertexts WHERE id = ?').get(id) as { bytes: Buffer; sha256: string } | undefined) ?? null;
}

export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/** Blocks of a batch in order, each with its ciphertexts keyed by column, checked against their SHA-256. */
export function* blocksOf(db: Db, batchId: number): Generator<{ block: number; slots: number; columns: Map<string, StoredCiphertext> }> {
  const blocks = db
    .prepare('SELECT DISTINCT block FROM ciphertexts WHERE batch_id = ? ORDER BY block')
    .pluck()
    .all(batchId) as number[];
  const stmt = db.prepare('SELECT * FROM ciphertexts WHERE batch_id = ? AND block = ?');
  for (const block of blocks) {
    const columns = new Map<string, StoredCiphertext>();
    let slots = 0;
    for (const r of stmt.all(batchId, block) as {
      batch_id: number;
      block: number;
      kind: CiphertextKind;
      column_name: string;
      slots: number;
      level: number;
      bytes: Buffer;
      sha256: string;
    }[]) {
      if (!checksumOk(r)) {
        throw new IntegrityError(
          `ciphertext of batch ${batchId}, block ${block}, column "${r.column_name}" does not match its checksum`,
        );
      }
      slots = r.slots;
      columns.set(r.column_name, {
        batchId: r.batch_id,
        block: r.block,
        kind: r.kind,
        columnName: r.column_name,
        slots: r.slots,
        level: r.level,
        bytes: r.bytes,
      });
    }
    yield { block, slots, columns };
  }
}

export function batchStorage(db: Db): Map<number, { bytes: number; ciphertexts: number; level: number }> {
  const rows = db
    .prepare(
      'SELECT batch_id, SUM(LENGTH(bytes)) AS bytes, COUNT(*) AS n, MIN(level) AS level FROM ciphertexts GROUP BY batch_id',
    )
    .all() as { batch_id: number; bytes: number; n: number; level: number }[];
  return new Map(rows.map((r) => [r.batch_id, { bytes: r.bytes, ciphertexts: r.n, level: r.level }]));
}

/** Bytes at rest of all feature ciphertexts and the size of one, for sizes reported by the benchmark. */
export function featureStorage(db: Db): { total: number; one: number } {
  return db
    .prepare("SELECT COALESCE(SUM(LENGTH(bytes)), 0) AS total, COALESCE(MAX(LENGTH(bytes)), 0) AS one FROM ciphertexts WHERE kind = 'feature'")
    .get() as { total: number; one: number };
}

export function labelStorage(db: Db): number {
  return db.prepare("SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM ciphertexts WHERE kind = 'label'").pluck().get() as number;
}
