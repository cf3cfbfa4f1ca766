import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { PatientPrediction } from '../services/results.ts';

/*
 * OWASP CSV-injection guidance: a cell a spreadsheet would read as a formula (or as DDE) starts with one of
 * these; a leading apostrophe makes it plain text. Hospital and patient ids come from the imported files,
 * so they are untrusted here.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvText(text: string): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function predictionsCsv(rows: readonly PatientPrediction[]): string {
  const lines = ['batch_id,hospital,patient_id,probability,at_risk'];
  for (const r of rows) {
    lines.push([String(r.batchId), csvText(r.hospital), csvText(r.patientId), String(r.probability), r.atRisk ? '1' : '0'].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Written beside the target and renamed over it, so a reader never sees half a file; owner-only because
 * the rows are per-patient results.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { flag: 'wx', mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
