import type { Db } from './db.ts';
import { type RowMac, tagJsonRow, taggedRowProblem } from './row-mac.ts';

export type NamedKind = 'model' | 'run';

interface NameRow {
  kind: NamedKind;
  id: string;
  name: string;
  mac: Buffer;
}

export function setName(db: Db, mac: RowMac, kind: NamedKind, id: string, name: string): void {
  db.prepare('INSERT INTO names (kind, id, name, mac) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, mac = excluded.mac').run(
    kind,
    id,
    name,
    tagJsonRow(mac, 'names', [kind, id], name),
  );
}

/**
 * Names of one kind by id. With the integrity key, a name whose tag does not verify is left out (the id is shown
 * instead): a label is not worth refusing a whole list for, and an edited one must not be shown. Without the key
 * (the auditor) names are read as stored, like every other record read without it.
 */
export function namesOf(db: Db, mac: RowMac | null, kind: NamedKind): Map<string, string> {
  const rows = db.prepare('SELECT * FROM names WHERE kind = ?').all(kind) as NameRow[];
  return new Map(rows.filter((r) => mac === null || taggedRowProblem(mac, 'names', [r.kind, r.id], r.name, r.mac) === null).map((r) => [r.id, r.name]));
}

/** Re-tags every name with another key set's integrity key (a rotation's commit); names that fail to verify are dropped. */
export function retagNames(db: Db, oldMac: RowMac, newMac: RowMac): void {
  const rows = db.prepare('SELECT * FROM names').all() as NameRow[];
  for (const r of rows) {
    if (taggedRowProblem(oldMac, 'names', [r.kind, r.id], r.name, r.mac) === null) {
      db.prepare('UPDATE names SET mac = ? WHERE kind = ? AND id = ?').run(tagJsonRow(newMac, 'names', [r.kind, r.id], r.name), r.kind, r.id);
    } else db.prepare('DELETE FROM names WHERE kind = ? AND id = ?').run(r.kind, r.id);
  }
}
