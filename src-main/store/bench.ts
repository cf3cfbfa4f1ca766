import type { Db } from './db.ts';

export function insertBenchRun(db: Db, createdAt: string, json: string): number {
  return Number(db.prepare('INSERT INTO bench_runs (created_at, json) VALUES (?, ?)').run(createdAt, json).lastInsertRowid);
}

export function listBenchRuns(db: Db): { id: number; createdAt: string; json: string }[] {
  return (db.prepare('SELECT id, created_at, json FROM bench_runs ORDER BY id DESC').all() as { id: number; created_at: string; json: string }[]).map(
    (r) => ({ id: r.id, createdAt: r.created_at, json: r.json }),
  );
}
