import { createHash } from 'node:crypto';
import type { Db } from './db.ts';

export interface FeatureMeta {
  name: string;
  unit: string;
  /** The range every stored value was checked against (recognised vitals), which bounds one patient's influence. */
  range?: [number, number];
}

export interface NewBatch {
  keyFingerprint: string;
  origin: 'csv' | 'bundle';
  sourceName: string;
  features: FeatureMeta[];
  createdAt: string;
}

export interface BatchRow extends NewBatch {
  id: number;
  sourceSha256: string;
  rows: number;
  dropped: number;
  labeledRows: number;
}

interface RawBatch {
  id: number;
  key_fingerprint: string;
  origin: 'csv' | 'bundle';
  source_name: string;
  source_sha256: string;
  rows: number;
  dropped: number;
  features: string;
  labeled_rows: number;
  created_at: string;
}

function fromRaw(r: RawBatch): BatchRow {
  return {
    id: r.id,
    keyFingerprint: r.key_fingerprint,
    origin: r.origin,
    sourceName: r.source_name,
    sourceSha256: r.source_sha256,
    rows: r.rows,
    dropped: r.dropped,
    features: JSON.parse(r.features) as FeatureMeta[],
    labeledRows: r.labeled_rows,
    createdAt: r.created_at,
  };
}

/** Creates the batch row first (counts filled in by finishBatch) so blocks can reference it as they stream in. */
export function createBatch(db: Db, b: NewBatch): number {
  const info = db
    .prepare(
      `INSERT INTO batches (key_fingerprint, origin, source_name, source_sha256, rows, dropped, features,
        labeled_rows, created_at) VALUES (?, ?, ?, '', 0, 0, ?, 0, ?)`,
    )
    .run(b.keyFingerprint, b.origin, b.sourceName, JSON.stringify(b.features), b.createdAt);
  return Number(info.lastInsertRowid);
}

/** The source file's hash is known only once the stream has ended, so it is written here with the counts. */
export function finishBatch(
  db: Db,
  id: number,
  done: { rows: number; dropped: number; labeledRows: number; sourceSha256: string },
): void {
  db.prepare('UPDATE batches SET rows = ?, dropped = ?, labeled_rows = ?, source_sha256 = ? WHERE id = ?').run(
    done.rows,
    done.dropped,
    done.labeledRows,
    done.sourceSha256,
    id,
  );
}

export function hospitalId(db: Db, name: string, now: string): number {
  db.prepare('INSERT OR IGNORE INTO hospitals (name, created_at) VALUES (?, ?)').run(name, now);
  return (db.prepare('SELECT id FROM hospitals WHERE name = ?').get(name) as { id: number }).id;
}

export interface PatientMeta {
  hospital: string;
  patientId: string;
  labeled: boolean;
}

/** A patient as the row tags see it: [slot, hospital, patient id, labeled 0 | 1]. */
export type PatientTuple = [slot: number, hospital: string, patientId: string, labeled: number];

/**
 * SHA-256 of a block's patients in slot order (slot, hospital, patient id, labeled): the row tags of the
 * block's ciphertexts cover it, so a patient id swapped, a label flag flipped, or a patient added to or
 * removed from the block is caught before any value is attributed or counted.
 */
function digestOf(tuples: readonly PatientTuple[]): string {
  return createHash('sha256').update(JSON.stringify(tuples)).digest('hex');
}

/** Patients per INSERT statement: bound as parameters, a native call per 64 rows rather than per row. */
const ROWS_PER_INSERT = 64;
const PATIENT_COLUMNS = 6;

function patientInsert(db: Db, rows: number) {
  return db.prepare(`INSERT INTO patients (batch_id, block, slot, hospital_id, patient_id, labeled) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?)').join(', ')}`);
}

/** Stores a block's patients in slot order; returns their digest for the block's row tags. */
export function insertPatients(db: Db, batchId: number, block: number, patients: readonly PatientMeta[], now: string): string {
  const ids = new Map<string, number>();
  const hospitalOf = (name: string): number => {
    let h = ids.get(name);
    if (h === undefined) {
      h = hospitalId(db, name, now);
      ids.set(name, h);
    }
    return h;
  };
  // 64 rows a statement: 40% less time than one JSON array per block through json_each, which was half the time
  // of 4,096 single-row inserts.
  const full = patientInsert(db, ROWS_PER_INSERT);
  const args = new Array<string | number>(ROWS_PER_INSERT * PATIENT_COLUMNS);
  for (let start = 0; start < patients.length; start += ROWS_PER_INSERT) {
    const count = Math.min(ROWS_PER_INSERT, patients.length - start);
    if (count < ROWS_PER_INSERT) args.length = count * PATIENT_COLUMNS;
    for (let k = 0; k < count; k++) {
      const p = patients[start + k]!;
      const at = k * PATIENT_COLUMNS;
      args[at] = batchId;
      args[at + 1] = block;
      args[at + 2] = start + k;
      args[at + 3] = hospitalOf(p.hospital);
      args[at + 4] = p.patientId;
      args[at + 5] = p.labeled ? 1 : 0;
    }
    (count === ROWS_PER_INSERT ? full : patientInsert(db, count)).run(...args);
  }
  const digest = digestOf(patients.map((p, slot) => [slot, p.hospital, p.patientId, p.labeled ? 1 : 0]));
  db.prepare('INSERT INTO patient_blocks (batch_id, block, digest) VALUES (?, ?, ?)').run(batchId, block, digest);
  return digest;
}

/**
 * The digest written with a block's patients, which every row tag of the block binds. Not evidence by itself: it
 * counts once a tag verifies with it, and the block's patients, when read, must then match it. One deleted from
 * the file reads as '', with which no tag verifies.
 */
export function writtenDigest(db: Db, batchId: number, block: number): string {
  return (db.prepare('SELECT digest FROM patient_blocks WHERE batch_id = ? AND block = ?').pluck().get(batchId, block) as string | undefined) ?? '';
}

/**
 * For an import into a store that holds no patient yet (so nothing to look up while it runs): drops the
 * patient-id index and returns what rebuilds it, once, when the rows are in. Hospital exports list patients in
 * no order of their ids, and inserting 1M such ids one by one into the index costs about three times building
 * it from the finished table (a sort). Inside the import's transaction: an import that fails or is killed rolls
 * the drop back with everything else.
 */
export function deferPatientIdIndex(db: Db): (() => void) | null {
  if (db.prepare('SELECT 1 FROM patients LIMIT 1').get() !== undefined) return null;
  // Rebuilt from its own definition, so the migration that made it stays the one place that says what it is.
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'patients_by_id'").pluck().get() as string;
  db.exec('DROP INDEX patients_by_id');
  return () => db.exec(sql);
}

/**
 * Which of a hospital's patient ids (or pseudonyms) are already stored in a batch under this key set (other than
 * `exceptBatch`, the one being written).
 */
export function storedPatientIds(db: Db, keyFingerprint: string, hospital: string, ids: readonly string[], exceptBatch: number): Set<string> {
  const rows = db
    .prepare(
      `SELECT p.patient_id FROM patients p JOIN hospitals h ON h.id = p.hospital_id JOIN batches b ON b.id = p.batch_id
       WHERE h.name = ? AND b.key_fingerprint = ? AND p.batch_id != ? AND p.patient_id IN (SELECT value FROM json_each(?))`,
    )
    .pluck()
    .all(hospital, keyFingerprint, exceptBatch, JSON.stringify(ids)) as string[];
  return new Set(rows);
}

/** Whether any patient is stored under this key set: an import into an empty store needs no duplicate check. */
export function hasPatients(db: Db, keyFingerprint: string): boolean {
  return db.prepare('SELECT 1 FROM batches WHERE key_fingerprint = ? AND rows > 0 LIMIT 1').pluck().get(keyFingerprint) !== undefined;
}

export function getBatch(db: Db, id: number): BatchRow | null {
  const r = db.prepare('SELECT * FROM batches WHERE id = ?').get(id) as RawBatch | undefined;
  return r ? fromRaw(r) : null;
}

export function listBatches(db: Db): BatchRow[] {
  return (db.prepare('SELECT * FROM batches ORDER BY id').all() as RawBatch[]).map(fromRaw);
}

export interface PatientRow {
  batchId: number;
  block: number;
  slot: number;
  hospital: string;
  patientId: string;
  labeled: boolean;
}

/** Patients and labeled patients of each batch, from the store's metadata (every id present, 0 when unknown). */
export function batchCounts(db: Db, batchIds: readonly number[]): Map<number, { patients: number; labeled: number }> {
  const rows = db
    .prepare(
      `SELECT batch_id AS id, COUNT(*) AS patients, SUM(labeled) AS labeled FROM patients
       WHERE batch_id IN (SELECT value FROM json_each(?)) GROUP BY batch_id`,
    )
    .all(JSON.stringify(batchIds)) as { id: number; patients: number; labeled: number }[];
  const found = new Map(rows.map((r) => [r.id, { patients: r.patients, labeled: r.labeled }]));
  return new Map(batchIds.map((id) => [id, found.get(id) ?? { patients: 0, labeled: 0 }]));
}

export function countPatients(db: Db, batchId: number): number {
  return db.prepare('SELECT COUNT(*) FROM patients WHERE batch_id = ?').pluck().get(batchId) as number;
}

const SELECT_PATIENTS = `SELECT p.batch_id, p.block, p.slot, h.name AS hospital, p.patient_id, p.labeled
  FROM patients p JOIN hospitals h ON h.id = p.hospital_id`;

interface RawPatient {
  batch_id: number;
  block: number;
  slot: number;
  hospital: string;
  patient_id: string;
  labeled: number;
}

function rowsOf(raw: RawPatient[]): PatientRow[] {
  return raw.map((r) => ({
    batchId: r.batch_id,
    block: r.block,
    slot: r.slot,
    hospital: r.hospital,
    patientId: r.patient_id,
    labeled: r.labeled === 1,
  }));
}

/**
 * One block's patients in slot order, read as the tags' tuples: the digest needs no row objects, and the rows
 * are built only for a caller that attributes or counts patients (prediction needs the digest alone).
 */
export class BlockPatients {
  readonly digest: string;
  readonly #tuples: readonly PatientTuple[];
  readonly #batchId: number;
  readonly #block: number;
  #rows: PatientRow[] | null = null;

  constructor(batchId: number, block: number, tuples: readonly PatientTuple[]) {
    this.#batchId = batchId;
    this.#block = block;
    this.#tuples = tuples;
    this.digest = digestOf(tuples);
  }

  /** The patients as read, for a caller that attributes values by slot and needs no object per patient. */
  get tuples(): readonly PatientTuple[] {
    return this.#tuples;
  }

  get rows(): PatientRow[] {
    const batchId = this.#batchId;
    const block = this.#block;
    this.#rows ??= this.#tuples.map(([slot, hospital, patientId, labeled]) => ({ batchId, block, slot, hospital, patientId, labeled: labeled === 1 }));
    return this.#rows;
  }
}

export function patientsOfBlock(db: Db, batchId: number, block: number): BlockPatients {
  // `labeled = 1` gives the 0 | 1 the digest hashes, read as the rows read the flag (=== 1), whatever a forger stored.
  const tuples = db
    .prepare('SELECT slot, hospital_id, patient_id, labeled = 1 FROM patients WHERE batch_id = ? AND block = ? ORDER BY slot')
    .raw()
    .all(batchId, block) as [number, number | string, string, number][];
  // Hospital names looked up here rather than joined row by row: a third less time for a block, and each name is
  // one string shared by the block's rows. An id without a hospital (the file edited) reads as no name, which no
  // digest was made of.
  const names = new Map(db.prepare('SELECT id, name FROM hospitals').raw().all() as [number, string][]);
  for (const t of tuples) t[1] = names.get(t[1] as number) ?? '';
  return new BlockPatients(batchId, block, tuples as PatientTuple[]);
}

/** A batch's patients in slot order, all of them or one page (a listing: not verified against the row tags). */
export function patientsOfBatch(db: Db, batchId: number, page?: { offset: number; limit: number }): PatientRow[] {
  return rowsOf(
    db
      .prepare(
        `${SELECT_PATIENTS}
         WHERE p.batch_id = ? ORDER BY p.block, p.slot LIMIT ? OFFSET ?`,
      )
      .all(batchId, page?.limit ?? -1, page?.offset ?? 0) as RawPatient[],
  );
}

export function hospitalSummary(db: Db): { name: string; patients: number; batches: number }[] {
  return db
    .prepare(
      `SELECT h.name AS name, COUNT(*) AS patients, COUNT(DISTINCT p.batch_id) AS batches
       FROM patients p JOIN hospitals h ON h.id = p.hospital_id GROUP BY h.id ORDER BY h.name`,
    )
    .all() as { name: string; patients: number; batches: number }[];
}
