import { sha256Hex } from '../common/files.ts';
import { IntegrityError, rowProblem } from './ciphertexts.ts';
import type { Db } from './db.ts';
import type { RowFields, RowMac } from './row-mac.ts';

/** A key rotation in progress: the active key set it leaves and the inactive one it re-encrypts under. */
export interface Rotation {
  id: number;
  fromKey: string;
  toKey: string;
  startedAt: string;
}

/** The two tables whose blobs are encrypted under a key set. */
export type RotatedSource = 'ciphertexts' | 'prediction_blocks';

/** A stored blob still to re-encrypt: its table, its key there, and the SHA-256 of the bytes it has now. */
export interface PendingBlob {
  source: RotatedSource;
  key: string;
  sha256: string;
}

export interface StagedBlob {
  source: RotatedSource;
  key: string;
  sourceSha256: string;
  level: number;
  bytes: Uint8Array;
}

interface StagedRow {
  source: RotatedSource;
  source_key: string;
  source_sha256: string;
  level: number;
  bytes: Buffer;
  sha256: string;
  mac: Buffer;
}

/** A staged blob's tag covers its rotation, what it replaces (and that blob's hash) and its level. */
function stagedFields(rotationId: number, s: { source: string; key: string; sourceSha256: string; level: number }): RowFields {
  return [rotationId, s.source, s.key, s.sourceSha256, s.level];
}

/** A prediction block's key in rotation_blocks: run, batch and block. */
export function predictionKey(b: { runId: number; batchId: number; block: number }): string {
  return `${b.runId}:${b.batchId}:${b.block}`;
}

export function parsePredictionKey(key: string): { runId: number; batchId: number; block: number } {
  const [runId, batchId, block] = key.split(':').map(Number);
  return { runId: runId!, batchId: batchId!, block: block! };
}

export function runningRotation(db: Db): Rotation | null {
  const r = db.prepare("SELECT id, from_key, to_key, started_at FROM rotations WHERE state = 'running'").get() as
    | { id: number; from_key: string; to_key: string; started_at: string }
    | undefined;
  return r ? { id: r.id, fromKey: r.from_key, toKey: r.to_key, startedAt: r.started_at } : null;
}

export function startRotation(db: Db, fromKey: string, toKey: string): Rotation {
  const startedAt = new Date().toISOString();
  const id = Number(db.prepare("INSERT INTO rotations (from_key, to_key, started_at, state) VALUES (?, ?, ?, 'running')").run(fromKey, toKey, startedAt).lastInsertRowid);
  return { id, fromKey, toKey, startedAt };
}

/** Ends a rotation (committed or aborted); its staged blobs are dropped either way. */
export function finishRotation(db: Db, id: number, state: 'committed' | 'aborted'): void {
  db.prepare('DELETE FROM rotation_blocks WHERE rotation_id = ?').run(id);
  db.prepare('UPDATE rotations SET state = ?, finished_at = ? WHERE id = ?').run(state, new Date().toISOString(), id);
}

/**
 * Blobs under the rotation's old key set not yet staged, or staged from bytes that have since changed:
 * everything a resume, or a batch imported under the old key set meanwhile, still needs.
 */
export function pendingBlobs(db: Db, r: Rotation): PendingBlob[] {
  const ciphertexts = db
    .prepare(
      `SELECT c.id AS key, c.sha256 FROM ciphertexts c JOIN batches b ON b.id = c.batch_id
       LEFT JOIN rotation_blocks s ON s.rotation_id = ? AND s.source = 'ciphertexts' AND s.source_key = CAST(c.id AS TEXT)
       WHERE b.key_fingerprint = ? AND (s.source_key IS NULL OR s.source_sha256 <> c.sha256) ORDER BY c.id`,
    )
    .all(r.id, r.fromKey) as { key: number; sha256: string }[];
  const predictions = db
    .prepare(
      `SELECT p.run_id, p.batch_id, p.block, p.sha256 FROM prediction_blocks p JOIN prediction_runs r ON r.id = p.run_id
       LEFT JOIN rotation_blocks s ON s.rotation_id = ? AND s.source = 'prediction_blocks'
         AND s.source_key = p.run_id || ':' || p.batch_id || ':' || p.block
       WHERE r.key_fingerprint = ? AND (s.source_key IS NULL OR s.source_sha256 <> p.sha256) ORDER BY p.run_id, p.batch_id, p.block`,
    )
    .all(r.id, r.fromKey) as { run_id: number; batch_id: number; block: number; sha256: string }[];
  return [
    ...ciphertexts.map((c) => ({ source: 'ciphertexts' as const, key: String(c.key), sha256: c.sha256 })),
    ...predictions.map((p) => ({ source: 'prediction_blocks' as const, key: predictionKey({ runId: p.run_id, batchId: p.batch_id, block: p.block }), sha256: p.sha256 })),
  ];
}

/** Stages a re-encrypted blob, tagged with the new key set's integrity key (replacing a stale one). */
export function stageBlob(db: Db, mac: RowMac, rotationId: number, s: StagedBlob): void {
  const sha256 = sha256Hex(s.bytes);
  db.prepare(
    `INSERT OR REPLACE INTO rotation_blocks (rotation_id, source, source_key, source_sha256, level, bytes, sha256, mac)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(rotationId, s.source, s.key, s.sourceSha256, s.level, s.bytes, sha256, mac.tag('rotation_blocks', stagedFields(rotationId, s), sha256));
}

/** Keys of the staged blobs; each is read (and verified) on its own by stagedBlob, so none is held for long. */
export function stagedKeys(db: Db, rotationId: number): { source: RotatedSource; key: string }[] {
  return db.prepare('SELECT source, source_key AS key FROM rotation_blocks WHERE rotation_id = ? ORDER BY source, source_key').all(rotationId) as {
    source: RotatedSource;
    key: string;
  }[];
}

/** A staged blob, verified against its tag: one edited in the file after it was staged is refused. */
export function stagedBlob(db: Db, mac: RowMac, rotationId: number, source: RotatedSource, key: string): StagedBlob {
  const r = db.prepare('SELECT * FROM rotation_blocks WHERE rotation_id = ? AND source = ? AND source_key = ?').get(rotationId, source, key) as StagedRow;
  const staged = { source: r.source, key: r.source_key, sourceSha256: r.source_sha256, level: r.level };
  const problem = rowProblem(mac, 'rotation_blocks', stagedFields(rotationId, staged), r);
  if (problem) throw new IntegrityError(`the re-encrypted ${source} row ${key} of rotation ${rotationId} failed verification: ${problem}; abort the rotation and start again`);
  return { ...staged, bytes: r.bytes };
}
