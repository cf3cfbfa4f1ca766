import { sha256Hex } from '../common/files.ts';
import type { Db } from './db.ts';
import { type BlockPatients, type PatientRow, patientsOfBlock, writtenDigest } from './batches.ts';
import type { RowFields, RowMac } from './row-mac.ts';

export type CiphertextKind = 'feature' | 'label';

export interface StoredCiphertext {
  batchId: number;
  block: number;
  kind: CiphertextKind;
  columnName: string;
  slots: number;
  level: number;
  bytes: Uint8Array;
}

/** The column name under which a block's encrypted labels are stored, beside its feature columns. */
export const LABEL_COLUMN = '__label__';

// Migration v4 pins every row of this table to 'input'; the tag covers it all the same.
const PROVENANCE = 'input';

interface CiphertextRow {
  id: number;
  batch_id: number;
  block: number;
  kind: CiphertextKind;
  column_name: string;
  slots: number;
  level: number;
  provenance: string;
  bytes: Buffer;
  sha256: string;
  mac: Buffer | null;
}

/** What a ciphertext row's tag covers besides its bytes: its own fields and its block's patients. */
function fieldsOf(r: Omit<CiphertextRow, 'id' | 'bytes' | 'sha256' | 'mac'>, patients: string): RowFields {
  return [r.batch_id, r.block, r.kind, r.column_name, r.slots, r.level, r.provenance, patients];
}

/** `patients`: the digest insertPatients returned for the block. */
export function insertCiphertext(db: Db, mac: RowMac, c: StoredCiphertext, patients: string): void {
  const sha256 = sha256Hex(c.bytes);
  const fields = { batch_id: c.batchId, block: c.block, kind: c.kind, column_name: c.columnName, slots: c.slots, level: c.level, provenance: PROVENANCE };
  db.prepare(
    `INSERT INTO ciphertexts (batch_id, block, kind, column_name, slots, level, provenance, bytes, sha256, mac)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(c.batchId, c.block, c.kind, c.columnName, c.slots, c.level, PROVENANCE, c.bytes, sha256, mac.tag('ciphertexts', fieldsOf(fields, patients), sha256));
}

/**
 * Replaces a verified row's blob with its re-encryption under another key set (a rotation's commit), tagged with
 * that key set's integrity key: the row keeps its place, column and patients, so its tag covers the same fields.
 */
export function replaceCiphertext(db: Db, mac: RowMac, id: number, level: number, bytes: Uint8Array): void {
  const r = db.prepare('SELECT * FROM ciphertexts WHERE id = ?').get(id) as CiphertextRow;
  const sha256 = sha256Hex(bytes);
  const tag = mac.tag('ciphertexts', fieldsOf({ ...r, level }, writtenDigest(db, r.batch_id, r.block)), sha256);
  db.prepare('UPDATE ciphertexts SET level = ?, bytes = ?, sha256 = ?, mac = ? WHERE id = ?').run(level, bytes, sha256, tag, id);
}

/** Whether a stored blob still matches the SHA-256 recorded when it was written. */
function checksumOk(row: { bytes: Uint8Array; sha256: string }): boolean {
  return sha256Hex(row.bytes) === row.sha256;
}

export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/**
 * Why a stored row may not be used, or null when it may: damaged bytes (checksum), or a row edited, moved or
 * inserted without the vault's key (tag). Without a key only damage can be seen.
 */
export function rowProblem(
  mac: RowMac | null,
  table: string,
  fields: RowFields,
  r: { bytes: Uint8Array; sha256: string; mac: Uint8Array | null },
): string | null {
  if (!checksumOk(r)) return 'its bytes do not match their checksum (damaged or edited)';
  if (mac && r.mac === null) return 'it carries no integrity tag (written before HomoPAI tagged rows, or inserted outside HomoPAI)';
  if (mac && !mac.verify(table, fields, r.sha256, r.mac)) {
    return "its integrity tag does not match (the row, or its block's patients, was edited, moved or inserted outside HomoPAI)";
  }
  return null;
}

/** Throws the IntegrityError naming the row when it may not be used; returns it when it may. */
function authenticCiphertext(mac: RowMac, r: CiphertextRow, patients: string): CiphertextRow {
  const problem = rowProblem(mac, 'ciphertexts', fieldsOf(r, patients), r);
  if (problem) {
    throw new IntegrityError(
      `ciphertext row ${r.id} (batch ${r.batch_id}, block ${r.block}, column "${r.column_name}") failed verification: ${problem}; ` +
        `re-import batch ${r.batch_id} from its source`,
    );
  }
  return r;
}

/** [ciphertext id, batch id] of every stored ciphertext, for a scan that fetches one blob at a time. */
export function ciphertextIds(db: Db): [number, number][] {
  return db.prepare('SELECT id, batch_id FROM ciphertexts ORDER BY id').raw().all() as [number, number][];
}

/**
 * For a scan of the store one row at a time, by id: whether a row is damaged or forged (a row deleted meanwhile
 * is neither), or, with the key, its block's patients are not those its tags bind. Ids run block by block, so a
 * block's patients are read and digested once, not once per column.
 */
export function rowChecker(db: Db, mac: RowMac | null): (id: number) => boolean {
  const stmt = db.prepare('SELECT * FROM ciphertexts WHERE id = ?');
  let last: { batchId: number; block: number; digest: string; patientsBound: boolean } | null = null;
  return (id) => {
    const r = stmt.get(id) as CiphertextRow | undefined;
    if (r === undefined) return false;
    let digest = '';
    if (mac) {
      if (last?.batchId !== r.batch_id || last.block !== r.block) {
        const written = writtenDigest(db, r.batch_id, r.block);
        last = { batchId: r.batch_id, block: r.block, digest: written, patientsBound: patientsOfBlock(db, r.batch_id, r.block).digest === written };
      }
      if (!last.patientsBound) return true;
      digest = last.digest;
    }
    return rowProblem(mac, 'ciphertexts', fieldsOf(r, digest), r) !== null;
  };
}

/** Stored ciphertext rows by id, each verified; ids not in the store are left out. */
export function ciphertextsById(db: Db, mac: RowMac, ids: readonly number[]): CiphertextRow[] {
  const stmt = db.prepare('SELECT * FROM ciphertexts WHERE id = ?');
  return ids.flatMap((id) => {
    const r = stmt.get(id) as CiphertextRow | undefined;
    return r ? [authenticCiphertext(mac, r, writtenDigest(db, r.batch_id, r.block))] : [];
  });
}

/** A stored block: its ciphertexts keyed by column and its patients, all verified against the row tags. */
export interface VerifiedBlock {
  block: number;
  slots: number;
  columns: Map<string, StoredCiphertext>;
  /** Read on first use, and refused unless they are the patients the block's tags bind. */
  patients: PatientRow[];
  /** The digest of `patients`, for the tags of what is computed from this block (prediction vectors). */
  patientsDigest: string;
}

/**
 * A block's patients, provided they are those its verified rows bind (`digest`, as written with them): ids
 * swapped, a label flag flipped, a patient added or removed after the block was written, and nothing is
 * attributed or counted.
 */
export function patientsBound(db: Db, batchId: number, block: number, digest: string): BlockPatients {
  const patients = patientsOfBlock(db, batchId, block);
  if (patients.digest !== digest) {
    throw new IntegrityError(
      `the patients of batch ${batchId}, block ${block} are not those its ciphertexts were written for (edited, added or removed outside HomoPAI); ` +
        `re-import batch ${batchId} from its source`,
    );
  }
  return patients;
}

/**
 * Blocks of a batch in order, each with its ciphertexts and patients, every row verified before use. Each row's
 * tag binds its block's patient digest as written (writtenDigest), so a block is verified without reading its
 * patients; they are read only for a caller that attributes or counts them, and checked against that digest
 * then. Encrypted prediction never reads a patient: its output is tagged with the digest, and whoever decrypts
 * it verifies the patients it attributes values to.
 */
export function* blocksOf(db: Db, mac: RowMac, batchId: number, only?: readonly string[]): Generator<VerifiedBlock> {
  const blocks = db
    .prepare('SELECT DISTINCT block FROM ciphertexts WHERE batch_id = ? ORDER BY block')
    .pluck()
    .all(batchId) as number[];
  // `only` names the columns a caller needs (evaluation reads the label alone): each row carries its own tag, so
  // reading fewer rows verifies no less of what is read, and spares reading and hashing the other blobs.
  const stmt = only
    ? db.prepare('SELECT * FROM ciphertexts WHERE batch_id = ? AND block = ? AND column_name IN (SELECT value FROM json_each(?))')
    : db.prepare('SELECT * FROM ciphertexts WHERE batch_id = ? AND block = ?');
  const wanted = only ? [JSON.stringify(only)] : [];
  for (const block of blocks) {
    const columns = new Map<string, StoredCiphertext>();
    const digest = writtenDigest(db, batchId, block);
    let slots = 0;
    for (const r of stmt.all(batchId, block, ...wanted) as CiphertextRow[]) {
      authenticCiphertext(mac, r, digest);
      slots = r.slots;
      columns.set(r.column_name, {
        batchId: r.batch_id,
        block: r.block,
        kind: r.kind,
        columnName: r.column_name,
        slots: r.slots,
        level: r.level,
        bytes: r.bytes,
      });
    }
    let patients: PatientRow[] | null = null;
    yield {
      block,
      slots,
      columns,
      get patients() {
        patients ??= patientsBound(db, batchId, block, digest).rows;
        return patients;
      },
      patientsDigest: digest,
    };
  }
}

export function batchStorage(db: Db): Map<number, { bytes: number; ciphertexts: number; level: number }> {
  const rows = db
    .prepare(
      'SELECT batch_id, SUM(LENGTH(bytes)) AS bytes, COUNT(*) AS n, MIN(level) AS level FROM ciphertexts GROUP BY batch_id',
    )
    .all() as { batch_id: number; bytes: number; n: number; level: number }[];
  return new Map(rows.map((r) => [r.batch_id, { bytes: r.bytes, ciphertexts: r.n, level: r.level }]));
}

/** Bytes at rest of all feature ciphertexts and the size of one, for sizes reported by the benchmark. */
export function featureStorage(db: Db): { total: number; one: number } {
  return db
    .prepare("SELECT COALESCE(SUM(LENGTH(bytes)), 0) AS total, COALESCE(MAX(LENGTH(bytes)), 0) AS one FROM ciphertexts WHERE kind = 'feature'")
    .get() as { total: number; one: number };
}

export function labelStorage(db: Db): number {
  return db.prepare("SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM ciphertexts WHERE kind = 'label'").pluck().get() as number;
}
