import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../../src-main/services/import.ts';
import { loadRowKey } from '../../src-main/services/key-sets.ts';
import { DB_FILE } from '../../src-main/store/db.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { passphraseVaultPath, PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { tableCounts } from '../helpers/store.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';
import { vaultError } from '../helpers/vault.ts';
import { cli, cliJson, ENV, pilotWorkspace, refused } from './attacker.ts';

/*
 * The smaller openings the review found, each played as the attacker would: a workspace readable by other
 * accounts, an unbounded CSV record, a GCM tag truncated in a vault file, an scrypt cost planted in one, a
 * hospital name that rewrites the terminal, decryptions released at full precision, and an import whose
 * audit entry could be lost to a kill after its batch committed.
 */
describe('hardening of the smaller openings', () => {
  const tmp = tempDir('homopai-attack-misc-');
  const ws = join(tmp.dir, 'ws');
  beforeAll(() => pilotWorkspace(ws));
  afterAll(() => tmp[Symbol.dispose]());

  it('keeps the workspace its owner’s alone: folder 0700, database 0600, also when the folder existed as 0755', async () => {
    expect(statSync(ws).mode & 0o777).toBe(0o700);
    expect(statSync(join(ws, DB_FILE)).mode & 0o777).toBe(0o600);
    const open = join(tmp.dir, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    await cli(open, ['init']);
    expect(statSync(open).mode & 0o777).toBe(0o700);
    expect(statSync(join(open, DB_FILE)).mode & 0o777).toBe(0o600);
  });

  it('stops a CSV read at a record longer than 1 MiB characters (an unclosed quote), naming file and row', async () => {
    const csv = join(tmp.dir, 'quote.csv');
    writeFileSync(csv, `${readFileSync(SAMPLE, 'utf8').trim()}\nH-NORTH,"P-9999,36.6,120,80,16,97,0\n${'x'.repeat(3 * 2 ** 20)}\n`);
    await refused(ws, ['import', csv], /quote\.csv: row \d+: a record longer than 1,048,576 characters/);
  });

  it('refuses a vault whose GCM tag was cut to 4 bytes, or whose scrypt cost would take a terabyte', async () => {
    using w = Workspace.open(ws);
    const path = passphraseVaultPath(ws, w.requireKeySet().fingerprint);
    const original = readFileSync(path, 'utf8');
    const vault = JSON.parse(original) as { box: { tag: string }; kdf: { N: number } };
    try {
      writeFileSync(path, JSON.stringify({ ...vault, box: { ...vault.box, tag: Buffer.from(vault.box.tag, 'base64').subarray(0, 4).toString('base64') } }));
      expect((await vaultError(new PassphraseVault(ws, PASSPHRASE).load(w.requireKeySet().fingerprint))).message).toMatch(/the tag must be 16 bytes/);
      writeFileSync(path, JSON.stringify({ ...vault, kdf: { ...vault.kdf, N: 2 ** 30 } }));
      expect((await vaultError(new PassphraseVault(ws, PASSPHRASE).load(w.requireKeySet().fingerprint))).message).toMatch(/malformed/);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('prints names from imported files without terminal escape sequences', async () => {
    const csv = join(tmp.dir, 'escape.csv');
    const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    writeFileSync(csv, `${[lines[0], ...lines.slice(1).map((l) => l.replace('H-NORTH', 'H-\x1b]0;owned\x07\x1b[2J'))].join('\n')}\n`);
    const r = await homopai(['import', csv, '--workspace', ws, '--duplicates', 'allow'], ENV);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('H-\uFFFD]0;owned\uFFFD\uFFFD[2J');
    expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07]/);
  });

  it('releases decrypted values at the precision they mean, never the raw decoded double', async () => {
    const { predictions } = await cliJson<{ predictions: { probability: number }[] }>(ws, ['predict', '--batches', '1']);
    for (const p of predictions) expect(Math.round(p.probability * 1e4) / 1e4).toBe(p.probability);
    const stats = await cliJson<{ features: { mean: number; std: number }[] }>(ws, ['stats', '--batches', '1']);
    for (const f of stats.features) {
      expect(Number(f.mean.toPrecision(6))).toBe(f.mean);
      expect(Number(f.std.toPrecision(6))).toBe(f.std);
    }
  });

  it('writes an import’s audit entry in its batch’s transaction: no entry, no batch', async () => {
    using w = Workspace.open(ws);
    await loadRowKey(w, new PassphraseVault(ws, PASSPHRASE));
    const before = tableCounts(w.db);
    const failingLog = { ws: w, audit: () => { throw new Error('the log could not be written'); } };
    await expect(importCsv(failingLog, SAMPLE)).rejects.toThrow(/could not be written/);
    expect(tableCounts(w.db)).toEqual(before);
  });
});
