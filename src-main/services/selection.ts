import { KeySetMismatchError } from '../ckks/errors.ts';
import { shortFingerprint } from '../ckks/keys.ts';
import { batchCounts, type BatchRow, getBatch, listBatches } from '../store/batches.ts';
import type { Workspace } from '../store/workspace.ts';
import { releasePolicy } from './release-policy.ts';

/** A selection of batches, and the ones `all` left out because they are too small to take part in an aggregate. */
export interface Selection {
  batchIds: number[];
  leftOut: { batchId: number; patients: number }[];
}

function named(spec: string): number[] {
  const ids = spec.split(',').map((s) => Number(s.trim()));
  const bad = ids.find((id) => !Number.isSafeInteger(id) || id < 1);
  if (bad !== undefined) throw new Error(`--batches takes batch numbers (1,2,3) or all; "${spec.slice(0, 40)}" is not`);
  return ids;
}

/**
 * The batches a command names (`1,2,3`), or every batch under the active key set (`all`, or nothing named);
 * with `labeledOnly`, only batches that hold labels (for training).
 */
export function selectBatches(ws: Workspace, spec: string | undefined, labeledOnly = false): number[] {
  if (spec && spec !== 'all') return named(spec);
  const fingerprint = ws.requireKeySet().fingerprint;
  const ids = listBatches(ws.db)
    .filter((b) => b.keyFingerprint === fingerprint && (!labeledOnly || b.labeledRows > 0))
    .map((b) => b.id);
  if (ids.length === 0) throw new Error(`this workspace has no ${labeledOnly ? 'labeled ' : ''}batches: import a CSV or a hospital bundle first`);
  return ids;
}

/**
 * For an aggregate (statistics, encrypted training): the named batches as given (a batch too small is refused by
 * the release rule, by name), or `all` without the batches holding fewer than k of the patients it counts: they
 * are stored and can be predicted, but take part in no aggregate.
 */
export function selectForAggregate(ws: Workspace, spec: string | undefined, labeledOnly: boolean): Selection {
  const ids = selectBatches(ws, spec, labeledOnly);
  if (spec && spec !== 'all') return { batchIds: ids, leftOut: [] };
  const k = releasePolicy(ws).minPatients;
  const counts = batchCounts(ws.db, ids);
  const size = (id: number): number => (labeledOnly ? counts.get(id)!.labeled : counts.get(id)!.patients);
  const leftOut = ids.filter((id) => size(id) < k).map((batchId) => ({ batchId, patients: size(batchId) }));
  const batchIds = ids.filter((id) => size(id) >= k);
  if (batchIds.length === 0) throw new Error(`no batch holds at least k = ${k} ${labeledOnly ? 'labeled ' : ''}patients: nothing can be aggregated`);
  return { batchIds, leftOut };
}

/** A stored batch under the active key set, or the error that says why its ciphertexts cannot be used. */
export function requireBatch(ws: Workspace, batchId: number): BatchRow {
  const batch = getBatch(ws.db, batchId);
  if (!batch) throw new Error(`no batch ${batchId} in this workspace`);
  const active = ws.requireKeySet().fingerprint;
  if (batch.keyFingerprint !== active) {
    throw new KeySetMismatchError(
      `batch ${batchId} was encrypted under key set ${shortFingerprint(batch.keyFingerprint)}, but the active key set ` +
        `is ${shortFingerprint(active)}: its ciphertexts cannot be computed on or decrypted with these keys`,
    );
  }
  return batch;
}
