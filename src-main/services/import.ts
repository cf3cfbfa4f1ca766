import { basename } from 'node:path';
import { ColumnEncryptor } from '../ckks/encrypt.ts';
import { readRecords, type IngestOptions, type RecordChunk } from '../ingest/index.ts';
import { createBatch, finishBatch, insertPatients, type PatientMeta } from '../store/batches.ts';
import { insertCiphertext } from '../store/ciphertexts.ts';
import { inTransaction } from '../store/db.ts';
import { contextFor } from './contexts.ts';
import { breathe, CancelledError, type JobHooks, throwIfCancelled } from './progress.ts';
import type { Workspace } from './workspace.ts';

export const LABEL_COLUMN = '__label__';

export interface ImportResult {
  batchId: number;
  file: string;
  rows: number;
  dropped: number;
  labeledRows: number;
  blocks: number;
  hospitals: string[];
  features: { name: string; unit: string }[];
  notes: string[];
  encryptMs: number;
}

/** Rows gathered until a block (one ciphertext per column) is full: N/2 patients per ciphertext. */
class BlockBuffer {
  readonly values: Float64Array[];
  readonly labels: Float64Array;
  readonly patients: PatientMeta[] = [];

  constructor(features: number, slots: number) {
    this.values = Array.from({ length: features }, () => new Float64Array(slots));
    this.labels = new Float64Array(slots);
  }

  get size(): number {
    return this.patients.length;
  }

  /** Copies row i of the chunk; an unknown label is stored as 0 and marked unlabeled in the metadata. */
  push(chunk: RecordChunk, i: number): void {
    const slot = this.patients.length;
    chunk.values.forEach((col, j) => (this.values[j]![slot] = col[i]!));
    const label = chunk.labels ? chunk.labels[i]! : Number.NaN;
    this.labels[slot] = Number.isNaN(label) ? 0 : label;
    this.patients.push({ hospital: chunk.hospitalIds[i]!, patientId: chunk.patientIds[i]!, labeled: !Number.isNaN(label) });
  }

  /** Zeroes the plaintext copy before the buffer is reused or dropped. */
  wipe(): void {
    for (const v of this.values) v.fill(0);
    this.labels.fill(0);
    this.patients.length = 0;
  }
}

/** Records to import: a validated CSV stream, or an in-memory split that must never be written out as CSV. */
export interface RecordSource {
  name: string;
  features: { name: string; unit: string }[];
  labeled: boolean;
  notes: string[];
  chunks: AsyncIterator<RecordChunk, { dropped: number; sha256: string }>;
}

/** Validates, encrypts and stores a CSV as one batch: every row or none (see importRecords). */
export async function importCsv(ws: Workspace, path: string, options: IngestOptions = {}, hooks: JobHooks = {}): Promise<ImportResult> {
  const keySet = ws.requireKeySet();
  const ctx = await contextFor(keySet.preset);
  const { plan: planPromise, chunks } = readRecords(path, { ...options, chunkRows: ctx.slotCount, signal: hooks.signal });
  const plan = await planPromise;
  return importRecords(
    ws,
    {
      name: basename(path),
      features: plan.features.map((f) => ({ name: f.name, unit: f.unit })),
      labeled: plan.label !== null,
      notes: plan.notes,
      chunks,
    },
    hooks,
  );
}

/**
 * Encrypts and stores records as one batch in one transaction: every row or none, also when validation of a
 * later row fails, the work is cancelled or the process dies. Plaintext values exist only in memory, block by
 * block, and are zeroed once encrypted.
 */
export async function importRecords(ws: Workspace, source: RecordSource, hooks: JobHooks = {}): Promise<ImportResult> {
  const keySet = ws.requireKeySet();
  const ctx = await contextFor(keySet.preset);
  using encryptor = new ColumnEncryptor(ctx, keySet.publicKey);
  const { features, chunks } = source;
  const hospitals = new Set<string>();
  const now = new Date().toISOString();
  let encryptMs = 0;
  let blocks = 0;
  let rows = 0;
  let labeledRows = 0;
  const buffer = new BlockBuffer(features.length, ctx.slotCount);

  const flush = async (batchId: number): Promise<void> => {
    if (buffer.size === 0) return;
    const t0 = performance.now();
    const cts = buffer.values.map((v) => encryptor.encrypt(v.subarray(0, buffer.size)));
    const labelCt = source.labeled ? encryptor.encrypt(buffer.labels.subarray(0, buffer.size)) : null;
    encryptMs += performance.now() - t0;
    insertPatients(ws.db, batchId, blocks, buffer.patients, now);
    cts.forEach((bytes, j) =>
      insertCiphertext(ws.db, { batchId, block: blocks, kind: 'feature', columnName: features[j]!.name, slots: buffer.size, level: ctx.topLevel, bytes }),
    );
    if (labelCt) {
      insertCiphertext(ws.db, { batchId, block: blocks, kind: 'label', columnName: LABEL_COLUMN, slots: buffer.size, level: ctx.topLevel, bytes: labelCt });
    }
    blocks++;
    buffer.wipe();
    hooks.onProgress?.({ phase: 'encrypting', done: rows, total: null });
    await breathe();
  };

  try {
    return await inTransaction(ws.db, async () => {
      const batchId = createBatch(ws.db, {
        keyFingerprint: keySet.fingerprint,
        origin: 'csv',
        sourceName: source.name,
        features,
        createdAt: now,
      });
      let next = await chunks.next();
      while (!next.done) {
        throwIfCancelled(hooks, 'the import');
        const chunk = next.value;
        for (let i = 0; i < chunk.rowNumbers.length; i++) {
          buffer.push(chunk, i);
          hospitals.add(chunk.hospitalIds[i]!);
          rows++;
          if (buffer.patients[buffer.size - 1]!.labeled) labeledRows++;
          if (buffer.size === ctx.slotCount) await flush(batchId);
        }
        next = await chunks.next();
      }
      await flush(batchId);
      const summary = next.value;
      if (rows === 0) throw new Error(`${source.name}: no data rows to import`);
      finishBatch(ws.db, batchId, { rows, dropped: summary.dropped, labeledRows, sourceSha256: summary.sha256 });
      return {
        batchId,
        file: source.name,
        rows,
        dropped: summary.dropped,
        labeledRows,
        blocks,
        hospitals: [...hospitals].sort(),
        features,
        notes: source.notes,
        encryptMs,
      };
    });
  } catch (e) {
    if (hooks.signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError('the import');
    throw e;
  } finally {
    buffer.wipe();
  }
}
