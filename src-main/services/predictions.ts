import type { PatientPrediction } from '../../src-preload/contract.ts';
import { writeFileAtomic } from '../common/files.ts';
import { DecryptedRun, type RunColumns } from './decrypted-run.ts';
import { releasedPrediction } from './precision.ts';
import { predictionsCsv } from '../reports/csv-export.ts';
import type { Caller } from './caller.ts';
import { requireRun } from './evaluate.ts';
import type { KeyHolder } from './key-sets.ts';
import { decryptUnderPolicy } from './policy.ts';
import { runOutputs, storedCiphertexts } from './provenance.ts';

/**
 * The key holder decrypts a run's encrypted prediction vectors: the only per-patient values ever shown. The
 * policy allows it (they are evaluator outputs) and records it. The result is held in columns (DecryptedRun),
 * for the app to page through in its main process and destroy on Lock.
 */
export async function holdDecryptedRun(caller: Caller, holder: KeyHolder, runId: number): Promise<DecryptedRun> {
  const { ws } = caller;
  const run = requireRun(ws, holder, runId);
  const outputs = runOutputs(ws.db, ws.rowMac(), runId);
  // Every block's patients are read and checked before anything is decrypted: a block edited in the file stops the
  // run before a value is shown, not after some were.
  const patients = outputs.map((b) => b.readPatients().tuples);
  const n = patients.reduce((s, p) => s + p.length, 0);
  const hospitals: string[] = [];
  const hospitalAt = new Map<string, number>();
  const columns: RunColumns = {
    runId,
    batchIds: new Int32Array(n),
    hospitalIndex: new Uint32Array(n),
    hospitals,
    patientIds: new Array<string>(n),
    probabilities: new Float64Array(n),
  };
  return decryptUnderPolicy(caller, holder, { purpose: 'predictions', run }, (decrypt) => {
    let i = 0;
    outputs.forEach((b, k) => {
      const probs = decrypt(b);
      for (const [slot, hospital, patientId] of patients[k]!) {
        let h = hospitalAt.get(hospital);
        if (h === undefined) {
          h = hospitals.push(hospital) - 1;
          hospitalAt.set(hospital, h);
        }
        columns.batchIds[i] = b.batchId;
        columns.hospitalIndex[i] = h;
        (columns.patientIds as string[])[i] = patientId;
        columns.probabilities[i] = releasedPrediction(probs[slot]!, run.sigmoid);
        i++;
      }
      probs.fill(0);
    });
    return new DecryptedRun(columns);
  });
}

/** A run's decrypted predictions as rows, for callers that use them all at once (the CLI, experiments). */
export async function decryptRun(caller: Caller, holder: KeyHolder, runId: number): Promise<PatientPrediction[]> {
  const held = await holdDecryptedRun(caller, holder, runId);
  try {
    return [...held.rows()];
  } finally {
    held.destroy();
  }
}

/** Writes a run's decrypted predictions to a CSV file the key holder chose (owner-only), and records the export. */
export async function savePredictions(caller: Caller, runId: number, rows: readonly PatientPrediction[], path: string): Promise<{ path: string; rows: number }> {
  await writeFileAtomic(path, predictionsCsv(rows));
  caller.audit('export', { what: 'predictions', runId, rows: rows.length });
  return { path, rows: rows.length };
}

/** Decrypts a run and writes it to a CSV file (savePredictions). */
export async function exportPredictions(caller: Caller, holder: KeyHolder, runId: number, path: string): Promise<{ path: string; rows: number }> {
  return savePredictions(caller, runId, await decryptRun(caller, holder, runId), path);
}

/**
 * A request to see stored input ciphertexts (vitals, labels) in the clear. The policy refuses it, always, and
 * records the refusal; neither the app nor the CLI offers it. It exists so that such a request has one place
 * to go, and fails there, rather than a way around this module.
 */
export async function decryptStoredInput(caller: Caller, holder: KeyHolder, ciphertextIds: readonly number[]): Promise<Float64Array[]> {
  const ciphertexts = storedCiphertexts(caller.ws.db, caller.ws.rowMac(), ciphertextIds);
  const request = { purpose: 'stored-input', requested: ciphertextIds.length, ciphertexts } as const;
  return decryptUnderPolicy(caller, holder, request, (decrypt) => ciphertexts.map(decrypt));
}
