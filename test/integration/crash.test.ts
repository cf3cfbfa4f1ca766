import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { caller } from '../helpers/caller.ts';
import { describe, expect, it } from 'vitest';
import { writeCohortCsv } from '../../src-main/ingest/synthetic-cohort.ts';
import { mulberry32 } from '../../src-main/ml/random.ts';
import { createKeySet } from '../../src-main/services/key-sets.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { listBatches } from '../../src-main/store/batches.ts';
import { openDatabase } from '../../src-main/store/db.ts';
import { migrate } from '../../src-main/store/migrations.ts';
import { RowMac } from '../../src-main/store/row-mac.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { partialBatches } from '../helpers/store.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const CHILD = join(import.meta.dirname, '../fixtures/import-child.ts');
// Five ciphertext blocks of 4,096 patients: long enough for kills to land between blocks, inside the transaction.
const PATIENTS = 20_000;
const KILLS = 20;
const SEED = 0x5eed;
const MIN_DELAY_MS = 50;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Rows of the committed batch, from the child's "done" line; null if it never got there. */
  rows: number | null;
  /** From "start" to "done", when the child finished. */
  importMs: number | null;
}

function startImport(dir: string, csv: string): { child: ChildProcess; started: Promise<number>; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [CHILD, dir, csv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let startedAt = 0;
  let importMs: number | null = null;
  const started = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (startedAt === 0 && stdout.startsWith('start\n')) resolve((startedAt = performance.now()));
      if (importMs === null && stdout.includes('\ndone ')) importMs = performance.now() - startedAt;
    });
    child.once('exit', () => reject(new Error(`the importer exited before starting: ${stderr}`)));
  });
  // Not every caller awaits the start; a child failing before it must still not be an unhandled rejection.
  started.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      const done = /\ndone (.*)\n/.exec(stdout)?.[1];
      resolve({ code, signal, stderr, rows: done ? (JSON.parse(done) as { rows: number }).rows : null, importMs });
    }),
  );
  return { child, started, exited };
}

/** What a reader finds after the crash: the file opens, SQLite finds it sound, and no batch is partial. */
function checkStore(dir: string, mac: RowMac): { batches: number[]; problems: string[] } {
  const db = openDatabase(dir, migrate);
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    const batches = listBatches(db);
    const problems = integrity === 'ok' ? partialBatches(db, mac) : [`integrity_check: ${String(integrity)}`];
    // A first import drops the patient-id index and rebuilds it at its end: a kill in between must roll the drop back.
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'patients_by_id'").get() === undefined) problems.push('the patient-id index is gone');
    // The file holds whole imports of this one cohort, or nothing of it.
    for (const b of batches) if (b.rows !== PATIENTS) problems.push(`batch ${b.id} has ${b.rows} of ${PATIENTS} rows`);
    return { batches: batches.map((b) => b.id), problems };
  } finally {
    db.close();
  }
}

describe('crash safety of the importer', () => {
  it(`leaves no partial batch when killed with SIGKILL at ${KILLS} random points, and imports cleanly afterwards`, async () => {
    using tmp = tempDir();
    const dir = join(tmp.dir, 'ws');
    const csv = join(tmp.dir, 'cohort.csv');
    const vault = new PassphraseVault(dir, PASSPHRASE);
    let mac: RowMac;
    {
      using ws = Workspace.open(dir);
      const { fingerprint } = (await createKeySet(caller(ws), 'standard', () => vault)).info;
      mac = RowMac.fromSecretKey(await vault.load(fingerprint), fingerprint);
    }
    await writeCohortCsv(csv, { patients: PATIENTS, seed: 11 });

    // One undisturbed import sets the window the kills are drawn from; any import that finishes before its kill
    // narrows it, so that on a machine busier at first than later the kills still land inside imports.
    // First, a kill during the import into the empty store, the one that defers the patient-id index.
    const early = startImport(dir, csv);
    await early.started;
    await new Promise((resolve) => setTimeout(resolve, MIN_DELAY_MS));
    early.child.kill('SIGKILL');
    await early.exited;
    const afterEarly = checkStore(dir, mac);
    expect(afterEarly.problems).toEqual([]);

    const first = startImport(dir, csv);
    const firstExit = await first.exited;
    expect(firstExit, firstExit.stderr).toMatchObject({ code: 0, rows: PATIENTS });
    expect(checkStore(dir, mac)).toEqual({ batches: [...afterEarly.batches, afterEarly.batches.length + 1], problems: [] });
    let windowMs = firstExit.importMs!;

    const rand = mulberry32(SEED);
    let killed = 0;
    let finished = afterEarly.batches.length + 1;
    for (let i = 0; i < KILLS; i++) {
      const delay = MIN_DELAY_MS + rand() * Math.max(0, windowMs - MIN_DELAY_MS);
      const importer = startImport(dir, csv);
      await importer.started;
      await new Promise((resolve) => setTimeout(resolve, delay));
      importer.child.kill('SIGKILL');
      const exit = await importer.exited;
      if (exit.signal === 'SIGKILL') killed++;
      else expect(exit, exit.stderr).toMatchObject({ code: 0 });
      if (exit.importMs !== null) {
        finished++;
        windowMs = Math.min(windowMs, exit.importMs);
      }
      const after = checkStore(dir, mac);
      expect(after.problems, `after kill ${i + 1} at ${delay.toFixed(0)} ms`).toEqual([]);
      // A child killed between its commit and its "done" line leaves a whole batch, hence at least.
      expect(after.batches.length).toBeGreaterThanOrEqual(finished);
    }
    // Kills that all came too late would prove nothing.
    expect(killed).toBeGreaterThanOrEqual(KILLS / 2);

    const before = checkStore(dir, mac).batches;
    const rerun = await startImport(dir, csv).exited;
    expect(rerun, rerun.stderr).toMatchObject({ code: 0, rows: PATIENTS });
    const end = checkStore(dir, mac);
    expect(end.problems).toEqual([]);
    expect(end.batches).toHaveLength(before.length + 1);
    // About 40 s alone on two cores; the margin is for a machine busy with other suites.
  }, 180_000);
});
