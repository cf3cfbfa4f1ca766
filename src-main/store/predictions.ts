import type { Db } from './db.ts';
import { type PatientRow, patientsDigest, patientsOfBlock } from './batches.ts';
import { sha256Hex } from '../common/files.ts';
import { IntegrityError, rowProblem } from './ciphertexts.ts';
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
  keyFingerprint: string;
  scaling: string;
  batchIds: number[];
  patients: number;
  createdAt: string;
}

export function createRun(db: Db, r: Omit<PredictionRun, 'id'>): number {
  return Number(
    db
      .prepare(
        `INSERT INTO prediction_runs (model_id, key_fingerprint, scaling, batch_ids, patients, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(r.modelId, r.keyFingerprint, r.scaling, JSON.stringify(r.batchIds), r.patients, r.createdAt).lastInsertRowid,
  );
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

export function getRun(db: Db, id: number): PredictionRun | null {
  const r = db.prepare('SELECT * FROM prediction_runs WHERE id = ?').get(id) as
    | { id: number; model_id: string; key_fingerprint: string; scaling: string; batch_ids: string; patients: number; created_at: string }
    | undefined;
  return r
    ? {
        id: r.id,
        modelId: r.model_id,
        keyFingerprint: r.key_fingerprint,
        scaling: r.scaling,
        batchIds: JSON.parse(r.batch_ids) as number[],
        patients: r.patients,
        createdAt: r.created_at,
      }
    : null;
}

export function listRuns(db: Db): PredictionRun[] {
  return (db.prepare('SELECT id FROM prediction_runs ORDER BY id DESC').pluck().all() as number[]).map(
    (id) => getRun(db, id)!,
  );
}

/** A run's encrypted prediction vectors in order, each verified before use with the patients it belongs to. */
export function predictionBlocks(
  db: Db,
  mac: RowMac,
  runId: number,
): { batchId: number; block: number; slots: number; bytes: Uint8Array; patients: PatientRow[] }[] {
  const rows = db
    .prepare('SELECT batch_id, block, slots, level, bytes, sha256, mac FROM prediction_blocks WHERE run_id = ? ORDER BY batch_id, block')
    .all(runId) as { batch_id: number; block: number; slots: number; level: number; bytes: Buffer; sha256: string; mac: Buffer | null }[];
  return rows.map((r) => {
    const b = { runId, batchId: r.batch_id, block: r.block, slots: r.slots, level: r.level };
    const patients = patientsOfBlock(db, r.batch_id, r.block);
    const problem = rowProblem(mac, 'prediction_blocks', fieldsOf(b, patientsDigest(patients)), r);
    if (problem) {
      throw new IntegrityError(`prediction of run ${runId}, batch ${r.batch_id}, block ${r.block} failed verification: ${problem}; run the prediction again`);
    }
    return { batchId: r.batch_id, block: r.block, slots: r.slots, bytes: r.bytes, patients };
  });
}
