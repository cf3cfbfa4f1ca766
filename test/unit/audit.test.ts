import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendAudit,
  type AuditDetailValue,
  exportAuditJsonl,
  GENESIS_HASH,
  listAudit,
  verifyAudit,
} from '../../src-main/audit/log.ts';
import { DB_FILE, type Db, openDatabase } from '../../src-main/store/db.ts';
import { migrate } from '../../src-main/store/migrations.ts';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'homopai-audit-'));
  db = openDatabase(dir, migrate);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function seed(n: number): void {
  for (let i = 1; i <= n; i++) {
    appendAudit(db, { actor: 'dr.ng', role: 'clinician', action: 'import', detail: { batchId: i, rows: 100 * i, hospitals: ['A', 'B'] } });
  }
}

/** What someone holding the database file can do: a second connection, triggers dropped, rows rewritten. */
function tamper(sql: string, ...params: unknown[]): void {
  const raw = new Database(join(dir, DB_FILE));
  raw.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  raw.prepare(sql).run(...params);
  raw.close();
}

describe('audit log', () => {
  it('chains entries from the genesis hash and verifies', () => {
    seed(5);
    const entries = listAudit(db);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(verifyAudit(db)).toEqual({ ok: true, entries: 5, head: entries[4]!.hash });
  });

  it('hashes prev_hash followed by the canonical JSON of the entry, keys sorted at every level', () => {
    const e = appendAudit(db, { actor: 'ana', role: 'key-holder', action: 'decrypt', detail: { z: 1, a: ['x'] } });
    const canonical = `{"action":"decrypt","actor":"ana","at":${JSON.stringify(e.at)},"detail":{"a":["x"],"z":1},"role":"key-holder","seq":1}`;
    expect(e.hash).toBe(createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'));
  });

  it('defaults the actor to the OS user', () => {
    const e = appendAudit(db, { role: 'admin', action: 'keygen', detail: {} });
    expect(e.actor.length).toBeGreaterThan(0);
  });

  it('detects a row edited behind the triggers, at that row', () => {
    seed(5);
    tamper('UPDATE audit_log SET detail = ? WHERE seq = 3', JSON.stringify({ batchId: 3, rows: 1 }));
    const v = verifyAudit(db);
    expect(v).toMatchObject({ ok: false, entries: 5, brokenAt: 3 });
    expect(v.ok === false && v.reason).toMatch(/do not match its hash/);
  });

  it('detects an edited row whose hash was recomputed, at the next row', () => {
    seed(5);
    const [e2, e3] = listAudit(db).slice(1, 3);
    const detail = { batchId: 3, hospitals: ['A', 'B'], rows: 1 };
    const canonical = `{"action":"import","actor":"dr.ng","at":${JSON.stringify(e3!.at)},"detail":${JSON.stringify(detail)},"role":"clinician","seq":3}`;
    const hash = createHash('sha256').update(e2!.hash + canonical).digest('hex');
    tamper('UPDATE audit_log SET detail = ?, hash = ? WHERE seq = 3', JSON.stringify(detail), hash);
    expect(verifyAudit(db)).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('detects a deleted middle row', () => {
    seed(5);
    tamper('DELETE FROM audit_log WHERE seq = 3');
    const v = verifyAudit(db);
    expect(v).toMatchObject({ ok: false, entries: 4, brokenAt: 4 });
    expect(v.ok === false && v.reason).toBe('entries 3..3 are missing (seq jumps from 2 to 4)');
  });

  it('reports a detail that is no longer JSON, at that row', () => {
    seed(3);
    tamper('UPDATE audit_log SET detail = ? WHERE seq = 2', '{"batchId": 2,');
    expect(verifyAudit(db)).toEqual({ ok: false, entries: 3, brokenAt: 2, reason: "entry 2's detail is not JSON" });
  });

  it('aborts UPDATE and DELETE through SQL', () => {
    seed(2);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(verifyAudit(db)).toMatchObject({ ok: true, entries: 2 });
  });

  it('rejects detail that could carry patient data, naming the key but not the value', () => {
    const bad: unknown[] = [
      { note: 'x'.repeat(201) },
      { vitals: { hr: 120 } },
      { mixed: [1, 'a'] },
      { nested: [[1]] },
      { nan: Number.NaN },
      { many: Array.from({ length: 257 }, (_, i) => i) },
      { 'not an id': 1 },
      [1, 2],
    ];
    for (const detail of bad) {
      expect(() => appendAudit(db, { role: 'clinician', action: 'import', detail: detail as Record<string, AuditDetailValue> })).toThrow();
    }
    expect(() => appendAudit(db, { role: 'clinician', action: 'import', detail: { note: 'secret-value-'.repeat(20) } })).toThrow(
      /^audit detail "note" is longer than 200 characters/,
    );
    expect(() => appendAudit(db, { role: 'r', action: 'delete-all' as 'import', detail: {} })).toThrow(/unknown audit action/);
    const ok = appendAudit(db, { role: 'clinician', action: 'import', detail: { id: 'x'.repeat(200), n: 0, flag: false, none: null, ids: [1, 2], names: [] } });
    expect(ok.detail).toEqual({ id: 'x'.repeat(200), n: 0, flag: false, none: null, ids: [1, 2], names: [] });
    expect(verifyAudit(db)).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses each malformed entry with the rule it breaks, and takes the largest that fits', () => {
    const append = (e: { actor?: string; role?: unknown; action?: string; detail?: unknown }) =>
      appendAudit(db, { actor: 'dr.ng', role: 'clinician', action: 'import', detail: {}, ...e } as Parameters<typeof appendAudit>[1]);
    const plain = /^audit detail must be a plain object$/;
    // Each of these would otherwise be read key by key (a Map or a Date has none): refused as a whole.
    for (const detail of [null, undefined, 'text', 7, [1, 2], new Map([['a', 1]]), new Date(0), Object.create(null)]) {
      expect(() => append({ detail })).toThrow(plain);
    }
    expect(() => append({ detail: { ['k'.repeat(100)]: 1 } })).toThrow(`audit detail key "${'k'.repeat(64)}" is not an identifier`);
    expect(() => append({ detail: { ids: [1, Number.POSITIVE_INFINITY] } })).toThrow(/^audit detail "ids" is not a finite number$/);
    expect(() => append({ detail: { names: ['a', 'x'.repeat(201)] } })).toThrow(/^audit detail "names" is longer than 200 characters/);
    expect(() => append({ detail: { ids: Array.from({ length: 257 }, (_, i) => i) } })).toThrow(/^audit detail "ids" has more than 256 items$/);
    expect(() => append({ action: 'a'.repeat(100) })).toThrow(`unknown audit action "${'a'.repeat(40)}"`);
    for (const role of ['', 'r'.repeat(201), 42, null]) expect(() => append({ role })).toThrow(/^audit role must be 1 to 200 characters$/);
    for (const actor of ['', 'a'.repeat(201)]) expect(() => append({ actor })).toThrow(/^audit actor must be 1 to 200 characters$/);
    expect(listAudit(db)).toEqual([]);

    const largest = append({ actor: 'a'.repeat(200), role: 'r'.repeat(200), detail: { ids: Array.from({ length: 256 }, (_, i) => i) } });
    expect(largest).toMatchObject({ seq: 1, actor: 'a'.repeat(200), role: 'r'.repeat(200) });
    expect(append({ actor: 'b', role: 'c' }).seq).toBe(2);
    expect(verifyAudit(db)).toMatchObject({ ok: true, entries: 2 });
  });

  it('filters by action and time, keeping the most recent when limited', () => {
    seed(3);
    appendAudit(db, { actor: 'ana', role: 'key-holder', action: 'decrypt-refused', detail: { reason: 'locked' } });
    appendAudit(db, { actor: 'ana', role: 'key-holder', action: 'import', detail: { batchId: 4 } });
    expect(listAudit(db, { action: 'decrypt-refused' }).map((e) => e.seq)).toEqual([4]);
    expect(listAudit(db, { action: 'import', limit: 2 }).map((e) => e.seq)).toEqual([3, 5]);
    expect(listAudit(db, { since: '2999-01-01' })).toEqual([]);
    expect(listAudit(db, { since: listAudit(db)[0]!.at })).toHaveLength(5);
  });

  it('exports one parseable JSON line per entry', async () => {
    seed(1_203);
    const path = join(dir, 'audit.jsonl');
    expect(await exportAuditJsonl(db, path)).toBe(1_203);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(1_203);
    const parsed = lines.map((l) => JSON.parse(l) as { seq: number; hash: string; detail: unknown });
    expect(parsed.map((e) => e.seq)).toEqual(Array.from({ length: 1_203 }, (_, i) => i + 1));
    expect(parsed[1_202]).toEqual(listAudit(db, { limit: 1 })[0]);
  });
});
