import { IntegrityError } from './ciphertexts.ts';
import type { Db } from './db.ts';
import { sha256Hex } from '../common/files.ts';
import { type RowMac, tagJsonRow, taggedRowProblem } from './row-mac.ts';

export interface HospitalKeyRow {
  hospital: string;
  keyId: string;
  publicKey: Uint8Array;
  registeredAt: string;
}

/** A pinned key as stored, and why it may not be trusted: null when its tag verifies. */
export interface PinnedKey extends HospitalKeyRow {
  problem: string | null;
}

type PinRow = { hospital: string; key_id: string; public_key: Buffer; registered_at: string; mac: Buffer | null };

// A pin steers which bundles are accepted under a hospital's name: its tag covers every field, the key by its hash.
function pinTag(mac: RowMac, k: HospitalKeyRow): Buffer {
  return mac.tag('hospital_keys', [k.hospital, k.keyId, k.registeredAt], sha256Hex(k.publicKey));
}

function pinProblem(mac: RowMac, k: HospitalKeyRow, tag: Buffer | null): string | null {
  if (tag === null) return 'it carries no integrity tag (pinned before HomoPAI tagged pins, or inserted outside HomoPAI)';
  if (!mac.verify('hospital_keys', [k.hospital, k.keyId, k.registeredAt], sha256Hex(k.publicKey), tag)) {
    return 'its integrity tag does not match (edited or inserted outside HomoPAI)';
  }
  return null;
}

function fromPinRow(r: PinRow): HospitalKeyRow {
  return { hospital: r.hospital, keyId: r.key_id, publicKey: r.public_key, registeredAt: r.registered_at };
}

export function hospitalKey(db: Db, mac: RowMac, hospital: string): PinnedKey | null {
  const r = db.prepare('SELECT * FROM hospital_keys WHERE hospital = ?').get(hospital) as PinRow | undefined;
  if (!r) return null;
  const pin = fromPinRow(r);
  return { ...pin, problem: pinProblem(mac, pin, r.mac) };
}

/** Pins a hospital's signing key at its first bundle. */
export function pinHospitalKey(db: Db, mac: RowMac, k: HospitalKeyRow): void {
  db.prepare('INSERT INTO hospital_keys (hospital, key_id, public_key, registered_at, mac) VALUES (?, ?, ?, ?, ?)').run(
    k.hospital,
    k.keyId,
    k.publicKey,
    k.registeredAt,
    pinTag(mac, k),
  );
}

/**
 * Replaces a pinned key, or one that failed verification: only once the key holder has named the new key,
 * confirmed out of band (services/bundle-import.ts).
 */
export function replaceHospitalKey(db: Db, mac: RowMac, k: HospitalKeyRow): void {
  const changed = db
    .prepare('UPDATE hospital_keys SET key_id = ?, public_key = ?, registered_at = ?, mac = ? WHERE hospital = ?')
    .run(k.keyId, k.publicKey, k.registeredAt, pinTag(mac, k), k.hospital).changes;
  if (changed !== 1) throw new Error(`hospital "${k.hospital}" has no pinned key to replace`);
}

/** A rotation's commit: verified pins are tagged under the new key set; a pin that fails stays untrusted. */
export function retagPins(db: Db, oldMac: RowMac, newMac: RowMac): void {
  for (const r of db.prepare('SELECT * FROM hospital_keys').all() as PinRow[]) {
    const pin = fromPinRow(r);
    if (pinProblem(oldMac, pin, r.mac) === null) db.prepare('UPDATE hospital_keys SET mac = ? WHERE hospital = ?').run(pinTag(newMac, pin), pin.hospital);
  }
}

/** How many bundles of a hospital the store records (their rows outlive their batches: see migration v3). */
export function bundleCount(db: Db, hospital: string): number {
  return db.prepare('SELECT COUNT(*) FROM bundles WHERE hospital = ?').pluck().get(hospital) as number;
}

export interface BundleRow {
  bundleId: string;
  hospital: string;
  batchId: number;
  sha256: string;
  createdAt: string;
  importedAt: string;
}

export function bundleById(db: Db, bundleId: string): BundleRow | null {
  const r = db.prepare('SELECT * FROM bundles WHERE bundle_id = ?').get(bundleId) as
    | { bundle_id: string; hospital: string; batch_id: number; sha256: string; created_at: string; imported_at: string }
    | undefined;
  return r
    ? { bundleId: r.bundle_id, hospital: r.hospital, batchId: r.batch_id, sha256: r.sha256, createdAt: r.created_at, importedAt: r.imported_at }
    : null;
}

export function insertBundle(db: Db, b: BundleRow): void {
  db.prepare('INSERT INTO bundles (bundle_id, hospital, batch_id, sha256, created_at, imported_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    b.bundleId,
    b.hospital,
    b.batchId,
    b.sha256,
    b.createdAt,
    b.importedAt,
  );
}

/** Adds Galois keys to an existing key set (derived from its secret key; nothing else of the key set changes). */
export function setGaloisKeys(db: Db, fingerprint: string, galoisKeys: Uint8Array, steps: readonly number[]): void {
  const info = db
    .prepare('UPDATE key_sets SET galois_keys = ?, galois_steps = ? WHERE fingerprint = ?')
    .run(galoisKeys, JSON.stringify(steps), fingerprint);
  if (info.changes !== 1) throw new Error(`no key set ${fingerprint.slice(0, 16)} in this workspace`);
}

function sortedIds(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

export interface CohortStatsRow {
  id: number;
  keyFingerprint: string;
  batchIds: number[];
  json: string;
  createdAt: string;
}

const statsFields = (r: { id: number; keyFingerprint: string; batchIds: string; createdAt: string }) => [r.id, r.keyFingerprint, r.batchIds, r.createdAt];

export function insertCohortStats(db: Db, mac: RowMac, s: Omit<CohortStatsRow, 'id'>): number {
  const batchIds = JSON.stringify(sortedIds(s.batchIds));
  const id = Number(
    db
      .prepare('INSERT INTO cohort_stats (key_fingerprint, batch_ids, json, created_at) VALUES (?, ?, ?, ?)')
      .run(s.keyFingerprint, batchIds, s.json, s.createdAt).lastInsertRowid,
  );
  const tag = tagJsonRow(mac, 'cohort_stats', statsFields({ id, keyFingerprint: s.keyFingerprint, batchIds, createdAt: s.createdAt }), s.json);
  db.prepare('UPDATE cohort_stats SET mac = ? WHERE id = ?').run(tag, id);
  return id;
}

/** Moves the statistics computed under `from` to the key set `to` (a rotation's commit): verified, then re-tagged. */
export function moveCohortStats(db: Db, oldMac: RowMac, newMac: RowMac, from: string, to: string): void {
  const rows = db.prepare('SELECT * FROM cohort_stats WHERE key_fingerprint = ?').all(from) as {
    id: number;
    batch_ids: string;
    json: string;
    created_at: string;
    mac: Buffer | null;
  }[];
  for (const r of rows) {
    const problem = taggedRowProblem(oldMac, 'cohort_stats', statsFields({ id: r.id, keyFingerprint: from, batchIds: r.batch_ids, createdAt: r.created_at }), r.json, r.mac);
    if (problem) throw new IntegrityError(`cohort statistics ${r.id} failed verification: ${problem}; compute them again`);
    const tag = tagJsonRow(newMac, 'cohort_stats', statsFields({ id: r.id, keyFingerprint: to, batchIds: r.batch_ids, createdAt: r.created_at }), r.json);
    db.prepare('UPDATE cohort_stats SET key_fingerprint = ?, mac = ? WHERE id = ?').run(to, tag, r.id);
  }
}

/**
 * The latest statistics over exactly this set of batches (ids compared sorted), under this key set, verified:
 * they become the scaler of a model, so an edited row is refused, not used.
 */
export function latestCohortStats(db: Db, mac: RowMac, keyFingerprint: string, batchIds: readonly number[]): CohortStatsRow | null {
  const r = db
    .prepare('SELECT * FROM cohort_stats WHERE key_fingerprint = ? AND batch_ids = ? ORDER BY id DESC LIMIT 1')
    .get(keyFingerprint, JSON.stringify(sortedIds(batchIds))) as
    | { id: number; key_fingerprint: string; batch_ids: string; json: string; created_at: string; mac: Buffer | null }
    | undefined;
  if (!r) return null;
  const problem = taggedRowProblem(mac, 'cohort_stats', statsFields({ id: r.id, keyFingerprint: r.key_fingerprint, batchIds: r.batch_ids, createdAt: r.created_at }), r.json, r.mac);
  if (problem) throw new IntegrityError(`cohort statistics ${r.id} failed verification: ${problem}; compute them again`);
  return { id: r.id, keyFingerprint: r.key_fingerprint, batchIds: JSON.parse(r.batch_ids) as number[], json: r.json, createdAt: r.created_at };
}
