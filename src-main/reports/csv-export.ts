import type { PatientPrediction } from '../../src-preload/contract.ts';

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
