import { featureSet } from '../../src-preload/compatibility.ts';
import type { Workspace } from '../store/workspace.ts';
import type { FeatureMeta } from '../store/batches.ts';
import { requireBatch } from './selection.ts';
import { blocksOf, LABEL_COLUMN } from '../store/ciphertexts.ts';

export interface CohortBlock {
  batchId: number;
  block: number;
  /** Ciphertexts in the cohort's feature order. */
  features: Uint8Array[];
  label: Uint8Array | null;
  /** 1 in each patient's slot, 0 in unused slots (length = slot count). */
  present: Float64Array;
  /** 1 in each labeled patient's slot. */
  labeled: Float64Array;
}

/** The pooled ciphertexts of several batches (typically one per hospital bundle), block by block. */
export interface Cohort {
  batchIds: number[];
  features: FeatureMeta[];
  blocks: CohortBlock[];
  patients: number;
  labeledPatients: number;
  /** Verified patients (and labeled ones) per batch, for the release rule's per-batch check. */
  patientsPerBatch: Map<number, number>;
  labeledPerBatch: Map<number, number>;
  hospitals: string[];
}

/**
 * Gathers the blocks of `batchIds` (row tags verified) with per-slot masks from their verified patients. The
 * batches must be under the active key set and share their features (by name; order of the first batch).
 */
export function loadCohort(ws: Workspace, batchIds: readonly number[], slotCount: number): Cohort {
  if (batchIds.length === 0) throw new Error('no batches selected: import hospital bundles first');
  if (new Set(batchIds).size !== batchIds.length) throw new Error('a batch is selected twice');
  const batches = batchIds.map((id) => requireBatch(ws, id));
  const features = batches[0]!.features;
  const names = featureSet(batches[0]!);
  for (const b of batches) {
    const these = featureSet(b);
    if (these !== names) throw new Error(`batch ${b.id} has features ${these}; batch ${batches[0]!.id} has ${names}: pooled batches must match`);
  }
  const blocks: CohortBlock[] = [];
  const hospitals = new Set<string>();
  let patients = 0;
  let labeledPatients = 0;
  const patientsPerBatch = new Map<number, number>();
  const labeledPerBatch = new Map<number, number>();
  for (const b of batches) {
    const before = { patients, labeledPatients };
    // Masks and counts come from each block's verified patients: a patient row no ciphertext's tag vouches for
    // is neither counted towards n (or the policy's k) nor masked in.
    for (const block of blocksOf(ws.db, ws.rowMac(), b.id)) {
      if (block.patients.length === 0) continue;
      const m = { present: new Float64Array(slotCount), labeled: new Float64Array(slotCount) };
      for (const p of block.patients) {
        m.present[p.slot] = 1;
        if (p.labeled) {
          m.labeled[p.slot] = 1;
          labeledPatients++;
        }
        patients++;
        hospitals.add(p.hospital);
      }
      blocks.push({
        batchId: b.id,
        block: block.block,
        features: features.map((f) => block.columns.get(f.name)!.bytes),
        label: block.columns.get(LABEL_COLUMN)?.bytes ?? null,
        ...m,
      });
    }
    patientsPerBatch.set(b.id, patients - before.patients);
    labeledPerBatch.set(b.id, labeledPatients - before.labeledPatients);
  }
  return { batchIds: [...batchIds], features, blocks, patients, labeledPatients, patientsPerBatch, labeledPerBatch, hospitals: [...hospitals].sort() };
}
