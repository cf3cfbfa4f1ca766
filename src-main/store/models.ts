import type { Db } from './db.ts';

export function insertModel(db: Db, id: string, createdAt: string, json: string): void {
  db.prepare('INSERT INTO models (id, created_at, json) VALUES (?, ?, ?)').run(id, createdAt, json);
}

export function getModelJson(db: Db, id: string): string | null {
  return (db.prepare('SELECT json FROM models WHERE id = ?').pluck().get(id) as string | undefined) ?? null;
}

export function latestModelId(db: Db): string | null {
  return (db.prepare('SELECT id FROM models ORDER BY created_at DESC, rowid DESC LIMIT 1').pluck().get() as string | undefined) ?? null;
}

export function listModelJson(db: Db): string[] {
  return db.prepare('SELECT json FROM models ORDER BY created_at DESC, rowid DESC').pluck().all() as string[];
}
