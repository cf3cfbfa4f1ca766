import type { Db } from './db.ts';
import { type BlockPatients, writtenDigest } from './batches.ts';
import { sha256Hex } from '../common/files.ts';
import { IntegrityError, patientsBound, rowProblem } from './ciphertexts.ts';
import type { RowFields, RowMac } from './row-mac.ts';

// Migration v4 pins every row of prediction_blocks to this provenance; the tag covers it all the same.
const PROVENANCE = 'evaluator-output';

/** A prediction vector's tag covers its run, where it sits and the patients of the block it was computed from. */
function fieldsOf(b: { runId: number; batchId: number; block: number; slots: number; level: number }, patients: string): RowFields {
  return [b.runId, b.batchId, b.block, b.slots, b.level, PROVENANCE, patients];
}

export interface PredictionRun {
  id: number;
  modelId: string;
  /** SHA-256 of the model's JSON as it was when the run used it. */
  modelSha256: string;
  keyFingerprint: string;
  scaling: string;
  /** 'exact': the vectors hold logits, the logistic function is applied after decryption; 'polynomial': probabilities. */
  sigmoid: 'exact' | 'polynomial';
  batchIds: number[];
  patients: number;
  createdAt: string;
}

interface RunRow {
  id: number;
  model_id: string;
  model_sha256: string;
  key_fingerprint: string;
  scaling: string;
  sigmoid: 'exact' | 'polynomial';
  batch_ids: string;
  patients: number;
  created_at: string;
  mac: Buffer | null;
}

/** A run's tag covers every field: which model (and its hash) ran on which batches under which keys. */
function runFields(r: Omit<PredictionRun, 'batchIds'> & { batchIds: string }): (string | number)[] {
  // Runs before migration v9 (all polynomial) were tagged without the mode: their tags stay valid, and an exact
  // run's longer field list can never encode the same as a polynomial one's.
  const base = [r.id, r.modelId, r.modelSha256, r.keyFingerprint, r.scaling, r.batchIds, r.patients, r.createdAt];
  return r.sigmoid === 'exact' ? [...base, 'exact'] : base;
}

export function createRun(db: Db, mac: RowMac, r: Omit<PredictionRun, 'id'>): number {
  const batchIds = JSON.stringify(r.batchIds);
  const id = Number(
    db
      .prepare(
        `INSERT INTO prediction_runs (model_id, model_sha256, key_fingerprint, scaling, sigmoid, batch_ids, patients, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.modelId, r.modelSha256, r.keyFingerprint, r.scaling, r.sigmoid, batchIds, r.patients, r.createdAt).lastInsertRowid,
  );
  const tag = mac.tag('prediction_runs', runFields({ ...r, id, batchIds }), r.modelSha256);
  db.prepare('UPDATE prediction_runs SET mac = ? WHERE id = ?').run(tag, id);
  return id;
}

function fromRow(mac: RowMac | null, r: RunRow): PredictionRun {
  const run = {
    id: r.id,
    modelId: r.model_id,
    modelSha256: r.model_sha256,
    keyFingerprint: r.key_fingerprint,
    scaling: r.scaling,
    sigmoid: r.sigmoid,
    batchIds: r.batch_ids,
    patients: r.patients,
    createdAt: r.created_at,
  };
  if (mac && !mac.verify('prediction_runs', runFields(run), run.modelSha256, r.mac)) {
    throw new IntegrityError(`prediction run ${r.id} failed verification: its row was edited or inserted outside HomoPAI; run the prediction again`);
  }
  return { ...run, batchIds: JSON.parse(run.batchIds) as number[] };
}

/** A run, verified against its tag when a key is given; null when there is no such run. */
export function getRun(db: Db, mac: RowMac | null, id: number): PredictionRun | null {
  const r = db.prepare('SELECT * FROM prediction_runs WHERE id = ?').get(id) as RunRow | undefined;
  return r ? fromRow(mac, r) : null;
}

export function listRuns(db: Db, mac: RowMac | null): PredictionRun[] {
  return (db.prepare('SELECT * FROM prediction_runs ORDER BY id DESC').all() as RunRow[]).map((r) => fromRow(mac, r));
}

/** Encrypted prediction vectors are kept; their decryption lives only in the key holder's memory. */
/** `patients`: the digest of the input block's verified patients (blocksOf). */
export function insertPredictionBlock(
  db: Db,
  mac: RowMac,
  b: { runId: number; batchId: number; block: number; slots: number; level: number; bytes: Uint8Array },
  patients: string,
): void {
  const sha256 = sha256Hex(b.bytes);
  db.prepare(
    `INSERT INTO prediction_blocks (run_id, batch_id, block, slots, level, provenance, bytes, sha256, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(b.runId, b.batchId, b.block, b.slots, b.level, PROVENANCE, b.bytes, sha256, mac.tag('prediction_blocks', fieldsOf(b, patients), sha256));
}

/** Replaces a prediction vector with its re-encryption under another key set (a rotation's commit), re-tagged. */
export function replacePredictionBlock(db: Db, mac: RowMac, b: { runId: number; batchId: number; block: number }, level: number, bytes: Uint8Array): void {
  const { slots } = db.prepare('SELECT slots FROM prediction_blocks WHERE run_id = ? AND batch_id = ? AND block = ?').get(b.runId, b.batchId, b.block) as { slots: number };
  const sha256 = sha256Hex(bytes);
  const tag = mac.tag('prediction_blocks', fieldsOf({ ...b, slots, level }, writtenDigest(db, b.batchId, b.block)), sha256);
  db.prepare('UPDATE prediction_blocks SET level = ?, bytes = ?, sha256 = ?, mac = ? WHERE run_id = ? AND batch_id = ? AND block = ?').run(
    level,
    bytes,
    sha256,
    tag,
    b.runId,
    b.batchId,
    b.block,
  );
}

/** Moves every run made under `from` to the key set `to` (a rotation's commit): each verified, then re-tagged. */
export function moveRuns(db: Db, oldMac: RowMac, newMac: RowMac, from: string, to: string): number {
  const rows = db.prepare('SELECT * FROM prediction_runs WHERE key_fingerprint = ?').all(from) as RunRow[];
  for (const r of rows) {
    const run = { ...fromRow(oldMac, r), keyFingerprint: to };
    const tag = newMac.tag('prediction_runs', runFields({ ...run, batchIds: r.batch_ids }), run.modelSha256);
    db.prepare('UPDATE prediction_runs SET key_fingerprint = ?, mac = ? WHERE id = ?').run(to, tag, r.id);
  }
  return rows.length;
}

type BlockRow = { batch_id: number; block: number; slots: number; level: number; bytes: Buffer; sha256: string; mac: Buffer | null };

/** A prediction vector, verified; its patients are read, and checked, by whoever attributes values to them. */
export interface VerifiedPrediction {
  batchId: number;
  block: number;
  slots: number;
  bytes: Uint8Array;
  /** The block's patients, refused unless they are those the vector's tag binds (through the written digest). */
  readPatients(): BlockPatients;
}

/**
 * A prediction vector verified against its tag, which binds the digest of its block's patients as written
 * (writtenDigest): verified without reading them, so a caller that needs the vector alone (evaluation, beside
 * the labels' own blocks) reads no patient twice.
 */
function verifiedBlock(db: Db, mac: RowMac, runId: number, r: BlockRow): VerifiedPrediction {
  const b = { runId, batchId: r.batch_id, block: r.block, slots: r.slots, level: r.level };
  const digest = writtenDigest(db, r.batch_id, r.block);
  const problem = rowProblem(mac, 'prediction_blocks', fieldsOf(b, digest), r);
  if (problem) {
    throw new IntegrityError(`prediction of run ${runId}, batch ${r.batch_id}, block ${r.block} failed verification: ${problem}; run the prediction again`);
  }
  return { batchId: r.batch_id, block: r.block, slots: r.slots, bytes: r.bytes, readPatients: () => patientsBound(db, r.batch_id, r.block, digest) };
}

const BLOCK_COLUMNS = 'batch_id, block, slots, level, bytes, sha256, mac';

/** A run's encrypted prediction vectors in order, each verified before use. */
export function predictionBlocks(db: Db, mac: RowMac, runId: number): VerifiedPrediction[] {
  const rows = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM prediction_blocks WHERE run_id = ? ORDER BY batch_id, block`).all(runId) as BlockRow[];
  return rows.map((r) => verifiedBlock(db, mac, runId, r));
}

/** One prediction vector, verified. */
export function predictionBlock(db: Db, mac: RowMac, k: { runId: number; batchId: number; block: number }): { slots: number; bytes: Uint8Array } {
  const r = db.prepare(`SELECT ${BLOCK_COLUMNS} FROM prediction_blocks WHERE run_id = ? AND batch_id = ? AND block = ?`).get(k.runId, k.batchId, k.block) as BlockRow;
  return verifiedBlock(db, mac, k.runId, r);
}
