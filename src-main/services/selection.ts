import { listBatches } from '../store/batches.ts';
import type { Workspace } from '../store/workspace.ts';

/**
 * The batches a command names (`1,2,3`), or every batch under the active key set (`all`, or nothing named);
 * with `labeledOnly`, only batches that hold labels (for training).
 */
export function selectBatches(ws: Workspace, spec: string | undefined, labeledOnly = false): number[] {
  if (spec && spec !== 'all') {
    const ids = spec.split(',').map((s) => Number(s.trim()));
    const bad = ids.find((id) => !Number.isSafeInteger(id) || id < 1);
    if (bad !== undefined) throw new Error(`--batches takes batch numbers (1,2,3) or all; "${spec.slice(0, 40)}" is not`);
    return ids;
  }
  const fingerprint = ws.requireKeySet().fingerprint;
  const ids = listBatches(ws.db)
    .filter((b) => b.keyFingerprint === fingerprint && (!labeledOnly || b.labeledRows > 0))
    .map((b) => b.id);
  if (ids.length === 0) throw new Error(`this workspace has no ${labeledOnly ? 'labeled ' : ''}batches: import a CSV or a hospital bundle first`);
  return ids;
}
