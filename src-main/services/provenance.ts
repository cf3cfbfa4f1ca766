import { type CiphertextKind, ciphertextsById, type StoredCiphertext } from '../store/ciphertexts.ts';
import type { SlotSumBytes } from '../ckks/rotate.ts';
import type { Db } from '../store/db.ts';
import { predictionBlocks, type VerifiedPrediction } from '../store/predictions.ts';
import type { RowMac } from '../store/row-mac.ts';

/**
 * Where a stored ciphertext came from, which is what the decryption policy (services/policy.ts) decides on.
 * 'input': a column a hospital imported (vitals, labels). 'evaluator-output': a vector the evaluator computed
 * from inputs (predictions). Migration v3 writes it on every row and pins it to the table holding the row, so
 * tagging by table, as the readers below do, is the same as reading the column.
 */
export type Provenance = 'input' | 'evaluator-output';

/** A stored ciphertext on its way to the key holder, with what the policy needs to know about it. */
export interface StoredTagged {
  provenance: Provenance;
  /** 'feature' or 'label' for an input, 'prediction' for an evaluator output. */
  kind: CiphertextKind | 'prediction';
  batchId: number;
  block: number;
  slots: number;
  bytes: Uint8Array;
}

/** A total the evaluator just computed over every patient of a cohort (slot sums): never stored, one value. */
export interface CohortTotalTagged {
  provenance: 'evaluator-output';
  kind: 'cohort-total';
  slots: 1;
  bytes: SlotSumBytes;
}

export type TaggedCiphertext = StoredTagged | CohortTotalTagged;

export function cohortTotal(bytes: SlotSumBytes): CohortTotalTagged {
  return { provenance: 'evaluator-output', kind: 'cohort-total', slots: 1, bytes };
}

export function taggedInput(c: StoredCiphertext): StoredTagged {
  return { provenance: 'input', kind: c.kind, batchId: c.batchId, block: c.block, slots: c.slots, bytes: c.bytes };
}

/** A run's prediction vectors, each verified, with the means to read (and check) the patients of its block. */
export function runOutputs(db: Db, mac: RowMac, runId: number): (StoredTagged & Pick<VerifiedPrediction, 'readPatients'>)[] {
  return predictionBlocks(db, mac, runId).map((b) => ({ provenance: 'evaluator-output', kind: 'prediction', ...b }));
}

/** Stored ciphertexts by id, as a request to decrypt them names them; ids not in the store are left out. */
export function storedCiphertexts(db: Db, mac: RowMac, ids: readonly number[]): (StoredTagged & { id: number })[] {
  return ciphertextsById(db, mac, ids).map((r) => ({
    id: r.id,
    provenance: r.provenance as Provenance,
    kind: r.kind,
    batchId: r.batch_id,
    block: r.block,
    slots: r.slots,
    bytes: r.bytes,
  }));
}

/** Labeled patients over some batches: the count the policy holds against its minimum for aggregates. */
export function labeledPatients(db: Db, batchIds: readonly number[]): number {
  return db
    .prepare('SELECT COUNT(*) FROM patients WHERE labeled = 1 AND batch_id IN (SELECT value FROM json_each(?))')
    .pluck()
    .get(JSON.stringify(batchIds)) as number;
}
