import Database from 'better-sqlite3';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DB_FILE } from '../../src-main/store/db.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE } from '../helpers/workspace.ts';

/*
 * What the attacker works with: the public CLI (as the key holder, or as someone with only the workspace
 * folder) and plain SQL on homopai.db. Every attack in this folder goes through these, never through an
 * internal function that the product's doors would not expose.
 */

export const ENV = { HOMOPAI_PASSPHRASE: PASSPHRASE };

/** Runs the CLI on a workspace as the key holder; throws with stderr when it was expected to succeed. */
export async function cli(dir: string, args: string[]): Promise<string> {
  const r = await homopai([...args, '--workspace', dir], ENV);
  if (r.code !== 0) throw new Error(`homopai ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function cliJson<T = Record<string, unknown>>(dir: string, args: string[]): Promise<T> {
  return JSON.parse(await cli(dir, [...args, '--json'])) as T;
}

/** Runs a command the attack hopes will succeed, and returns how it ended instead. */
export async function attempt(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return homopai([...args, '--workspace', dir], ENV);
}

/** The refusal of an attack: exit code 1 and the one-line reason. */
export async function refused(dir: string, args: string[], reason: RegExp): Promise<void> {
  const r = await attempt(dir, args);
  expect(r.code, `expected homopai ${args.join(' ')} to be refused; it printed ${r.stdout.slice(0, 300)}`).not.toBe(0);
  expect(r.stderr).toMatch(reason);
}

/** SQL on the workspace file through its own connection, as someone holding only the file would run it. */
export function editDb(dir: string, edit: (db: Database.Database) => void): void {
  const db = new Database(join(dir, DB_FILE));
  try {
    edit(db);
  } finally {
    db.close();
  }
}

/** A copy of a prepared workspace, so each attack starts from the same state and leaves the original alone. */
export function copyWorkspace(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** The pilot's first n data rows as a CSV of their own (the header kept). */
export function pilotRows(path: string, rows: readonly number[]): string {
  const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
  writeFileSync(path, `${[lines[0], ...rows.map((i) => lines[i + 1])].join('\n')}\n`);
  return path;
}

/** init + import of the pilot + train + predict: the workspace a key holder has after an ordinary session. */
export async function pilotWorkspace(dir: string): Promise<string> {
  await cli(dir, ['init']);
  await cli(dir, ['import', SAMPLE]);
  await cli(dir, ['train', SAMPLE]);
  await cli(dir, ['predict']);
  return dir;
}
