import { IntegrityError } from './ciphertexts.ts';
import type { Db } from './db.ts';
import { type RowMac, tagJsonRow, taggedRowProblem } from './row-mac.ts';

interface ModelRow {
  rowid: number;
  id: string;
  created_at: string;
  json: string;
  mac: Buffer | null;
}

const fieldsOf = (r: { id: string; created_at: string }) => [r.id, r.created_at];

export function insertModel(db: Db, mac: RowMac, id: string, createdAt: string, json: string): void {
  db.prepare('INSERT INTO models (id, created_at, json, mac) VALUES (?, ?, ?, ?)').run(id, createdAt, json, tagJsonRow(mac, 'models', [id, createdAt], json));
}

function verified(mac: RowMac | null, r: ModelRow): string {
  const problem = mac && taggedRowProblem(mac, 'models', fieldsOf(r), r.json, r.mac);
  if (problem) throw new IntegrityError(`model ${r.id} (row ${r.rowid}) failed verification: ${problem}; train it again`);
  return r.json;
}

/** Re-tags every model with another key set's integrity key (a rotation's commit), each verified first. */
export function retagModels(db: Db, oldMac: RowMac, newMac: RowMac): number {
  const rows = db.prepare('SELECT rowid, * FROM models').all() as ModelRow[];
  for (const r of rows) {
    const json = verified(oldMac, r);
    db.prepare('UPDATE models SET mac = ? WHERE rowid = ?').run(tagJsonRow(newMac, 'models', fieldsOf(r), json), r.rowid);
  }
  return rows.length;
}

/** A model's JSON, verified against its tag when a key is given; null when there is no such model. */
export function getModelJson(db: Db, mac: RowMac | null, id: string): string | null {
  const r = db.prepare('SELECT rowid, * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
  return r ? verified(mac, r) : null;
}

/** The newest model. Its row is verified, not skipped: an edited row is refused, never silently passed over. */
export function latestModelJson(db: Db, mac: RowMac | null): string | null {
  const r = db.prepare('SELECT rowid, * FROM models ORDER BY created_at DESC, rowid DESC LIMIT 1').get() as ModelRow | undefined;
  return r ? verified(mac, r) : null;
}

export function listModelJson(db: Db, mac: RowMac | null): string[] {
  return (db.prepare('SELECT rowid, * FROM models ORDER BY created_at DESC, rowid DESC').all() as ModelRow[]).map((r) => verified(mac, r));
}
