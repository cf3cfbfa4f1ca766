import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

describe('homopai CLI', () => {
  it('runs init, import, train, predict, evaluate and audit verify on a workspace', async () => {
    using tmp = tempDir();
    const ws = ['--workspace', tmp.dir];
    const env = { HOMOPAI_PASSPHRASE: PASSPHRASE };
    const init = await homopai(['init', ...ws, '--json'], env);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ preset: 'standard', polyModulusDegree: 8192, custody: 'passphrase' });
    const imported = await homopai(['import', SAMPLE, ...ws, '--json'], env);
    expect(JSON.parse(imported.stdout)).toMatchObject({ rows: 19, batchId: 1 });
    expect((await homopai(['train', SAMPLE, ...ws], env)).code).toBe(0);
    const out = join(tmp.dir, 'predictions.csv');
    const predicted = await homopai(['predict', ...ws, '--out', out, '--json'], env);
    expect(predicted.code).toBe(0);
    expect(JSON.parse(predicted.stdout).predictions).toHaveLength(19);
    expect(readFileSync(out, 'utf8').trim().split('\r\n')).toHaveLength(20);
    const evaluated = await homopai(['evaluate', ...ws, '--json'], env);
    expect(JSON.parse(evaluated.stdout).metrics.accuracy).toBe(1);
    const verified = await homopai(['audit', 'verify', ...ws, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 8 });
  });

  it('exits 1 with a one-line reason, and lists the bad rows of a rejected CSV', async () => {
    using tmp = tempDir();
    const env = { HOMOPAI_PASSPHRASE: PASSPHRASE };
    await homopai(['init', '--workspace', tmp.dir], env);
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(bad, 'hospital,patient_id,temp,sbp,dbp,rr,spo2\nH,P1,36.9,120,80,16,97\nH,P2,36.9,120,80,16,\n');
    // Checked first, with no workspace or key: the same row, and nothing stored.
    const checked = await homopai(['check', bad]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/^bad\.csv: 1 row\(s\) would be refused, 1 pass\n {2}row 3, column "spo2"/);
    const r = await homopai(['import', bad, '--workspace', tmp.dir], env);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^homopai: bad\.csv: row 3, column "spo2"/);
    expect(lines[0]).toMatch(/row 3, column "spo2"/);
    const noPass = await homopai(['predict', '--workspace', tmp.dir], { HOMOPAI_PASSPHRASE: '' });
    expect(noPass.code).toBe(1);
    expect(noPass.stderr.trim().split('\n')).toHaveLength(1);
  });
});
