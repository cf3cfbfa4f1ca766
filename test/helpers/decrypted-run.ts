import type { PatientPrediction } from '../../src-preload/contract.ts';
import { DecryptedRun } from '../../src-main/services/decrypted-run.ts';

/** A held run made of given rows, as holdDecryptedRun makes one from decrypted blocks. */
export function heldRunOf(runId: number, rows: readonly Omit<PatientPrediction, 'atRisk'>[]): DecryptedRun {
  const hospitals = [...new Set(rows.map((r) => r.hospital))];
  return new DecryptedRun({
    runId,
    batchIds: Int32Array.from(rows, (r) => r.batchId),
    hospitalIndex: Uint32Array.from(rows, (r) => hospitals.indexOf(r.hospital)),
    hospitals,
    patientIds: rows.map((r) => r.patientId),
    probabilities: Float64Array.from(rows, (r) => r.probability),
  });
}
