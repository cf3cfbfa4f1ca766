import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Db } from '../store/db.ts';
import { AUDIT_ACTIONS, type AuditAction } from './actions.ts';

export type AuditDetailValue = string | number | boolean | null | number[] | string[];

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: AuditAction;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/*
 * The log outlives the data it describes and is handed to auditors, so it must never become a copy of
 * patient data. Detail is for counts, ids and outcomes: scalars, short strings, short flat arrays. A
 * 200-character cap leaves room for any id, path or error code while keeping free text (a CSV row, a
 * serialized record) out; the array cap does the same for vectors of values.
 */
export const MAX_STRING = 200;
const MAX_ARRAY = 256;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

interface Row {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** Sorted keys at every level, so the hash does not depend on the order a caller built the object in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function entryHash(prevHash: string, e: Pick<AuditEntry, 'seq' | 'at' | 'actor' | 'role' | 'action' | 'detail'>): string {
  const body = canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, role: e.role, action: e.action, detail: e.detail });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

// Errors name the key and the rule, never the value: a rejected value may be exactly the patient data kept out.
function checkDetail(detail: unknown): asserts detail is Record<string, AuditDetailValue> {
  // Only an object literal's prototype is Object.prototype: arrays, primitives, Maps and class instances are refused.
  if (detail === null || detail === undefined || Object.getPrototypeOf(detail) !== Object.prototype) {
    throw new TypeError('audit detail must be a plain object');
  }
  for (const [key, value] of Object.entries(detail)) {
    if (!DETAIL_KEY.test(key)) throw new TypeError(`audit detail key ${JSON.stringify(key.slice(0, 64))} is not an identifier`);
    const where = `audit detail "${key}"`;
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY) throw new RangeError(`${where} has more than ${MAX_ARRAY} items`);
      const numbers = value.every((v) => typeof v === 'number');
      if (!numbers && !value.every((v) => typeof v === 'string')) {
        throw new TypeError(`${where} must be an array of numbers or an array of strings`);
      }
      value.forEach((v: number | string) => checkScalar(v, where));
    } else if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
      checkScalar(value, where);
    } else {
      throw new TypeError(`${where} must be a string, number, boolean, null, or a flat array of strings or numbers`);
    }
  }
}

function checkScalar(v: string | number | boolean | null, where: string): void {
  // JSON turns NaN and Infinity into null, which would make the stored entry fail its own hash.
  if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`${where} is not a finite number`);
  if (typeof v === 'string' && v.length > MAX_STRING) {
    throw new RangeError(`${where} is longer than ${MAX_STRING} characters (the audit log holds ids and counts, not data)`);
  }
}

/** The OS account acting, for the log and reports. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // Containers often run under a uid with no passwd entry, where userInfo() throws.
    return process.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

function fromRow(r: Row): AuditEntry {
  let detail: Record<string, unknown>;
  try {
    detail = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    throw new Error(`audit entry ${r.seq} is damaged (its detail is not JSON); run the audit verification`);
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    role: r.role,
    action: r.action as AuditAction,
    detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Appends one entry, chained to the last. Inside a caller's transaction the entry commits or rolls back
 * with it, so record refusals ('import-rejected', 'decrypt-refused') outside the work that failed.
 */
export function appendAudit(
  db: Db,
  e: { actor?: string; role: string; action: AuditAction; detail: Record<string, AuditDetailValue> },
): AuditEntry {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(e.action)) throw new TypeError(`unknown audit action "${String(e.action).slice(0, 40)}"`);
  if (typeof e.role !== 'string' || e.role.length === 0 || e.role.length > MAX_STRING) {
    throw new TypeError(`audit role must be 1 to ${MAX_STRING} characters`);
  }
  const actor = e.actor ?? currentUser();
  if (actor.length === 0 || actor.length > MAX_STRING) throw new TypeError(`audit actor must be 1 to ${MAX_STRING} characters`);
  checkDetail(e.detail);
  // Stored and hashed from the same parsed copy, so what verifyAudit re-reads is exactly what was hashed.
  const detail = JSON.parse(JSON.stringify(e.detail)) as Record<string, unknown>;

  // IMMEDIATE takes the write lock before the head is read: two processes cannot chain onto the same entry.
  return db
    .transaction((): AuditEntry => {
      const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const fields = { seq: (head?.seq ?? 0) + 1, at: new Date().toISOString(), actor, role: e.role, action: e.action, detail };
      const prevHash = head?.hash ?? GENESIS_HASH;
      const entry: AuditEntry = { ...fields, prevHash, hash: entryHash(prevHash, fields) };
      db.prepare(
        'INSERT INTO audit_log (seq, at, actor, role, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(entry.seq, entry.at, entry.actor, entry.role, entry.action, JSON.stringify(detail), entry.prevHash, entry.hash);
      return entry;
    })
    .immediate();
}

/** Entries in chronological order; with `limit`, the most recent `limit` of those matching. */
export function listAudit(db: Db, filter: { action?: AuditAction; since?: string; limit?: number } = {}): AuditEntry[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.action !== undefined) {
    where.push('action = ?');
    params.push(filter.action);
  }
  if (filter.since !== undefined) {
    // ISO-8601 UTC timestamps order as text, so a date or a full timestamp both work as a lower bound.
    where.push('at >= ?');
    params.push(filter.since);
  }
  let sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC`;
  if (filter.limit !== undefined) {
    if (!Number.isSafeInteger(filter.limit) || filter.limit < 0) throw new RangeError('limit must be a non-negative integer');
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return (db.prepare(sql).all(...params) as Row[]).reverse().map(fromRow);
}

/** The detail of the latest entry of an action, or null when there is none. */
export function latestDetail(db: Db, action: AuditAction): Record<string, unknown> | null {
  const detail = db.prepare('SELECT detail FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1').pluck().get(action) as string | undefined;
  return detail === undefined ? null : (JSON.parse(detail) as Record<string, unknown>);
}

/**
 * The privacy ledger's total: the differential-privacy budget spent by every release recorded in the log (the
 * log, which the .db holder cannot truncate unseen, rather than a table one could empty).
 */
export function epsilonSpent(db: Db): number {
  return db.prepare("SELECT COALESCE(SUM(json_extract(detail, '$.epsilon')), 0) FROM audit_log WHERE action = 'decrypt'").pluck().get() as number;
}

/** Every release that spent privacy budget, oldest first: the privacy ledger. */
export function privacyLedger(db: Db): { seq: number; at: string; purpose: string; epsilon: number; patients: number | null }[] {
  return db
    .prepare(
      `SELECT seq, at, json_extract(detail, '$.purpose') AS purpose, json_extract(detail, '$.epsilon') AS epsilon,
              json_extract(detail, '$.patients') AS patients
       FROM audit_log WHERE action = 'decrypt' AND json_extract(detail, '$.epsilon') IS NOT NULL ORDER BY seq`,
    )
    .all() as { seq: number; at: string; purpose: string; epsilon: number; patients: number | null }[];
}

/**
 * The distinct models whose predictions were made on a batch, read from the 'predict' entries: the log, not the
 * runs table, is the record of what was released (a run deleted from the store still counts).
 */
export function modelsAppliedTo(db: Db, batchId: number): string[] {
  return db
    .prepare(
      `SELECT DISTINCT json_extract(a.detail, '$.modelId') FROM audit_log a, json_each(json_extract(a.detail, '$.batchIds')) b
       WHERE a.action = 'predict' AND b.value = ?`,
    )
    .pluck()
    .all(batchId) as string[];
}

/**
 * Recomputes the chain from genesis. Detects any edited, inserted or removed entry except at the end: a
 * truncated tail, or a tail rewritten with fresh hashes, is only caught by comparing `head` with a copy
 * kept elsewhere (a report, an export).
 */
export function verifyAudit(
  db: Db,
): { ok: true; entries: number; head: string } | { ok: false; entries: number; brokenAt: number; reason: string } {
  const entries = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const r of db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>) {
    const broken = (reason: string) => ({ ok: false as const, entries, brokenAt: r.seq, reason });
    if (r.seq !== expectedSeq) {
      return broken(`entries ${expectedSeq}..${r.seq - 1} are missing (seq jumps from ${expectedSeq - 1} to ${r.seq})`);
    }
    if (r.prev_hash !== prevHash) return broken(`entry ${r.seq} does not chain to entry ${r.seq - 1} (prev_hash differs)`);
    let detail: unknown;
    try {
      detail = JSON.parse(r.detail);
    } catch {
      return broken(`entry ${r.seq}'s detail is not JSON`);
    }
    if (entryHash(prevHash, { ...r, action: r.action as AuditAction, detail: detail as Record<string, unknown> }) !== r.hash) {
      return broken(`entry ${r.seq}'s contents do not match its hash (altered after it was written)`);
    }
    prevHash = r.hash;
    expectedSeq++;
  }
  return { ok: true, entries, head: prevHash };
}

/** Writes the log as JSON Lines (one AuditEntry per line) and returns how many entries were written. */
export async function exportAuditJsonl(db: Db, path: string): Promise<number> {
  const tmp = `${path}.tmp`;
  const page = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000');
  const file = await open(tmp, 'w');
  let count = 0;
  try {
    // Paged, not iterated: an open iterator would lock the connection across the awaits below.
    for (let after = 0; ; ) {
      const rows = page.all(after) as Row[];
      if (rows.length === 0) break;
      await file.write(rows.map((r) => `${JSON.stringify(fromRow(r))}\n`).join(''));
      count += rows.length;
      after = rows[rows.length - 1]!.seq;
    }
    await file.sync();
    await file.close();
    await rename(tmp, path);
    return count;
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
