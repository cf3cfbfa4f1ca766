import { IntegrityError } from './ciphertexts.ts';
import type { Db } from './db.ts';
import { type RowMac, tagJsonRow, taggedRowProblem } from './row-mac.ts';

/** A key set's release policy as stored: JSON the services parse, tagged so the .db holder cannot lower it. */
export interface PolicyRow {
  json: string;
  updatedAt: string;
}

export function getPolicyRow(db: Db, mac: RowMac, keyFingerprint: string): PolicyRow | null {
  const r = db.prepare('SELECT * FROM policies WHERE key_fingerprint = ?').get(keyFingerprint) as
    | { json: string; updated_at: string; mac: Buffer }
    | undefined;
  if (!r) return null;
  const problem = taggedRowProblem(mac, 'policies', [keyFingerprint, r.updated_at], r.json, r.mac);
  if (problem) throw new IntegrityError(`the release policy of this key set failed verification: ${problem}`);
  return { json: r.json, updatedAt: r.updated_at };
}

export function putPolicyRow(db: Db, mac: RowMac, keyFingerprint: string, row: PolicyRow): void {
  db.prepare(
    `INSERT INTO policies (key_fingerprint, json, updated_at, mac) VALUES (?, ?, ?, ?)
     ON CONFLICT (key_fingerprint) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at, mac = excluded.mac`,
  ).run(keyFingerprint, row.json, row.updatedAt, tagJsonRow(mac, 'policies', [keyFingerprint, row.updatedAt], row.json));
}
