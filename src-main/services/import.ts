import { basename } from 'node:path';
import type { ImportResult } from '../../src-preload/contract.ts';
import { CsvValidationError, type IngestOptions, IssueLog, planError, type ReadSummary, readRecords, type RecordChunk, storedFeature } from '../ingest/index.ts';
import { writeRejects } from './rejects.ts';
import { createBatch, deferPatientIdIndex, type FeatureMeta, finishBatch, hasPatients, insertPatients, type PatientMeta, storedPatientIds } from '../store/batches.ts';
import { insertCiphertext, LABEL_COLUMN } from '../store/ciphertexts.ts';
import { type CkksPool, type EncryptionKeyRef, OrderedWindow, sharedPool } from '../workers/pool.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { KeyHolder } from './key-sets.ts';
import { CancelledError, type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';

/** How an import encrypts: by whom (the key holder may use seeded symmetric encryption) and on which threads. */
export interface ImportEncryption {
  /** The unlocked key holder: ciphertexts are then seeded-symmetric (half the size, 3x faster). */
  holder?: KeyHolder;
  pool?: CkksPool;
}

/** Rows gathered until a block (one ciphertext per column) is full: N/2 patients per ciphertext. */
class BlockBuffer {
  private readonly slots: number;
  private values: Float64Array[];
  private labels: Float64Array;
  readonly patients: PatientMeta[] = [];

  constructor(features: number, slots: number) {
    this.slots = slots;
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

  /**
   * Hands the block's plaintext columns (and labels) over, to be moved to an encryptor thread, and starts a
   * fresh block: no plaintext copy stays behind in this thread.
   */
  take(withLabels: boolean): { columns: Float64Array[]; patients: PatientMeta[] } {
    const size = this.size;
    const columns = [...this.values, ...(withLabels ? [this.labels] : [])].map((c) => (size === this.slots ? c : c.slice(0, size)));
    if (size !== this.slots) this.wipe();
    this.values = this.values.map(() => new Float64Array(this.slots));
    this.labels = new Float64Array(this.slots);
    return { columns, patients: this.patients.splice(0) };
  }

  /** Zeroes what is left in memory when an import stops early. */
  wipe(): void {
    for (const v of this.values) v.fill(0);
    this.labels.fill(0);
  }
}

/**
 * Patients already stored under the active key set (by hospital and id), found chunk by chunk before anything is
 * encrypted: refused, naming the rows, unless the user chose to skip them or to import them again. An empty store
 * needs no lookup.
 */
class DuplicateCheck {
  private readonly ws: Workspace;
  private readonly keyFingerprint: string;
  private readonly batchId: number;
  private readonly mode: Duplicates;
  private readonly issues: IssueLog;
  private readonly active: boolean;
  skipped = 0;

  constructor(ws: Workspace, keyFingerprint: string, batchId: number, file: string, mode: Duplicates) {
    this.ws = ws;
    this.keyFingerprint = keyFingerprint;
    this.batchId = batchId;
    this.mode = mode;
    this.issues = new IssueLog(file);
    this.active = mode !== 'allow' && hasPatients(ws.db, keyFingerprint);
  }

  /** Indices of the chunk's rows whose patient is already stored; they are not imported. */
  find(chunk: RecordChunk): Set<number> {
    const found = new Set<number>();
    if (!this.active) return found;
    const byHospital = new Map<string, number[]>();
    chunk.hospitalIds.forEach((h, i) => {
      const list = byHospital.get(h);
      if (list) list.push(i);
      else byHospital.set(h, [i]);
    });
    for (const [hospital, rows] of byHospital) {
      const stored = storedPatientIds(this.ws.db, this.keyFingerprint, hospital, rows.map((i) => chunk.patientIds[i]!), this.batchId);
      for (const i of rows) {
        if (!stored.has(chunk.patientIds[i]!)) continue;
        found.add(i);
        if (this.mode === 'skip') this.skipped++;
        else this.issues.add(chunk.rowNumbers[i]!, null, 'this patient (hospital and id) is already stored; --duplicates skip leaves such rows out, allow imports them again');
      }
    }
    return found;
  }

  /** Throws the rows found, in reject mode: the import rolls back and names them. */
  refuseAny(): void {
    if (this.issues.total > 0) throw this.issues.toError();
  }
}

/** Records to import: a validated CSV stream, or an in-memory split that must never be written out as CSV. */
export interface RecordSource {
  name: string;
  features: FeatureMeta[];
  labeled: boolean;
  notes: string[];
  chunks: AsyncIterator<RecordChunk, { dropped: number; sha256: string; rejected?: ReadSummary['rejected'] }>;
  /** Where skipped rows are reported: beside this file, in its delimiter. */
  rejectsBeside?: { path: string; delimiter: string };
  /** A patient already stored under the key set: refused (default), skipped, or imported again. */
  duplicates?: Duplicates;
}

export type Duplicates = 'reject' | 'skip' | 'allow';

/** The options of a CSV import: the reader's, and what the store decides (rejects CSV, duplicates). */
export type ImportCsvOptions = IngestOptions & { rejectsCsv?: boolean; duplicates?: Duplicates };

/** Validates, encrypts and stores a CSV as one batch: every row or none (see importRecords). */
export async function importCsv(
  caller: Caller,
  path: string,
  options: ImportCsvOptions = {},
  hooks: JobHooks = {},
  encryption: ImportEncryption = {},
): Promise<ImportResult> {
  const keySet = caller.ws.requireKeySet();
  const ctx = await contextFor(keySet.preset);
  try {
    const { rejectsCsv, duplicates, ...ingest } = options;
    const read = { ...ingest, keepRejectedRows: rejectsCsv === true, chunkRows: ctx.slotCount, signal: hooks.signal };
    const { plan: planPromise, chunks } = readRecords(path, read);
    const plan = await planPromise;
    const imported = await importRecords(
      caller,
      {
        name: basename(path),
        features: plan.features.map(storedFeature),
        labeled: plan.label !== null,
        notes: plan.notes,
        chunks,
        rejectsBeside: { path, delimiter: plan.delimiter },
        ...(duplicates ? { duplicates } : {}),
      },
      hooks,
      encryption,
    );
    // What each column was recognised as, its unit and conversion, for the user; the store keeps name, unit, range.
    return { ...imported, features: plan.features };
  } catch (e) {
    // Recorded outside the import's transaction, which rolled back: nothing of the file was stored.
    if (e instanceof CsvValidationError) caller.audit('import-rejected', { file: e.file.slice(0, 200), issues: e.totalIssues });
    throw e;
  }
}

function encryptionKey(ws: Workspace, holder: KeyHolder | undefined): EncryptionKeyRef {
  const keySet = ws.requireKeySet();
  if (holder && holder.unlocked && holder.fingerprint === keySet.fingerprint) {
    return {
      preset: keySet.preset,
      keyId: `${keySet.fingerprint}:symmetric`,
      key: { mode: 'seeded-symmetric', publicKey: keySet.publicKey, secretKey: holder.secretKey() },
    };
  }
  return { preset: keySet.preset, keyId: `${keySet.fingerprint}:public`, key: { mode: 'public-key', publicKey: keySet.publicKey } };
}

/**
 * Encrypts and stores records as one batch in one transaction: every row or none, also when validation of a
 * later row fails, the work is cancelled or the process dies. Blocks are encrypted on the worker pool, at most
 * two per worker in flight, so the reader waits for the encryptors and memory stays bounded whatever the
 * file size. Plaintext exists only in memory, block by block, and is wiped once encrypted.
 */
export async function importRecords(
  caller: Caller,
  source: RecordSource,
  hooks: JobHooks = {},
  encryption: ImportEncryption = {},
): Promise<ImportResult> {
  const { ws } = caller;
  const keySet = ws.requireKeySet();
  if (source.features.length === 0) {
    throw planError(source.name, null, 'no numeric feature column to encrypt', 1);
  }
  const ctx = await contextFor(keySet.preset);
  const pool = encryption.pool ?? sharedPool('encryptor');
  const key = encryptionKey(ws, encryption.holder);
  const mac = ws.rowMac();
  const { features, chunks } = source;
  const hospitals = new Set<string>();
  const now = new Date().toISOString();
  let blocks = 0;
  let rows = 0;
  let stored = 0;
  let labeledRows = 0;
  let firstSubmit = 0;
  const buffer = new BlockBuffer(features.length, ctx.slotCount);

  try {
    return await ws.transaction(async () => {
      const batchId = createBatch(ws.db, {
        keyFingerprint: keySet.fingerprint,
        origin: 'csv',
        sourceName: source.name,
        features,
        createdAt: now,
      });
      const window = new OrderedWindow<{ block: number; patients: PatientMeta[]; cts: Uint8Array[] }>(pool.size * 2, (done) => {
        const patients = insertPatients(ws.db, batchId, done.block, done.patients, now);
        done.cts.forEach((bytes, j) => {
          const isLabel = j === features.length;
          insertCiphertext(
            ws.db,
            mac,
            {
              batchId,
              block: done.block,
              kind: isLabel ? 'label' : 'feature',
              columnName: isLabel ? LABEL_COLUMN : features[j]!.name,
              slots: done.patients.length,
              level: ctx.topLevel,
              bytes,
            },
            patients,
          );
        });
        stored += done.patients.length;
        hooks.onProgress?.({ phase: 'encrypting', done: stored, total: null });
      });
      const flush = async (): Promise<void> => {
        if (buffer.size === 0) return;
        const block = blocks++;
        const { columns, patients } = buffer.take(source.labeled);
        firstSubmit ||= performance.now();
        await window.push(pool.encrypt(key, columns).then((cts) => ({ block, patients, cts })));
      };

      const duplicates = new DuplicateCheck(ws, keySet.fingerprint, batchId, source.name, source.duplicates ?? 'reject');
      const rebuildIndex = deferPatientIdIndex(ws.db);
      let next = await chunks.next();
      while (!next.done) {
        throwIfCancelled(hooks, 'the import');
        const chunk = next.value;
        const stored = duplicates.find(chunk);
        for (let i = 0; i < chunk.rowNumbers.length; i++) {
          if (stored.has(i)) continue;
          buffer.push(chunk, i);
          hospitals.add(chunk.hospitalIds[i]!);
          rows++;
          if (buffer.patients[buffer.size - 1]!.labeled) labeledRows++;
          if (buffer.size === ctx.slotCount) await flush();
        }
        next = await chunks.next();
      }
      await flush();
      await window.drain();
      throwIfCancelled(hooks, 'the import');
      duplicates.refuseAny();
      const summary = next.value;
      if (rows === 0) {
        const message =
          duplicates.skipped > 0
            ? `every row is a patient already stored (${duplicates.skipped} left out); nothing to import`
            : summary.dropped > 0
              ? `every data row has a missing value (${summary.dropped} dropped); nothing to import`
              : 'no data rows to import';
        throw planError(source.name, null, message, 1);
      }
      rebuildIndex?.();
      finishBatch(ws.db, batchId, { rows, dropped: summary.dropped, labeledRows, sourceSha256: summary.sha256 });
      const rejected = summary.rejected ?? { rows: 0, issues: [], cells: null };
      // Written before the batch commits: an import whose report could not be written stores nothing.
      const written = rejected.rows > 0 && source.rejectsBeside ? await writeRejects(source.rejectsBeside.path, rejected, source.rejectsBeside.delimiter) : null;
      // In the batch's transaction: a batch is never in the store without its entry in the activity log.
      caller.audit('import', {
        batchId,
        origin: 'csv',
        file: source.name.slice(0, 200),
        rows,
        dropped: summary.dropped,
        labeledRows,
        hospitals: hospitals.size,
        skipped: rejected.rows,
        duplicates: duplicates.skipped,
      });
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
        encryption: key.key.mode,
        encryptMs: firstSubmit ? performance.now() - firstSubmit : 0,
        rejected: { rows: rejected.rows, issues: rejected.issues.slice(0, 50), report: written?.report ?? null, rejectsCsv: written?.rejectsCsv ?? null },
        duplicatesSkipped: duplicates.skipped,
      };
    });
  } catch (e) {
    if (hooks.signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError('the import');
    throw e;
  } finally {
    buffer.wipe();
    // The encryptor threads keep no copy of the secret key beyond the import that needed it (nor, to keep one
    // rule, the public key: sending it again costs one message per worker).
    await pool.forget(key.keyId);
  }
}
