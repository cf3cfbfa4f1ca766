import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../src-main/cli/main.ts');
const SAMPLE = join(import.meta.dirname, '../../resources/sample/pilot-vitals.csv');
const env = { HOMOPAI_PASSPHRASE: PASSPHRASE };

async function homopai(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('homopai kit / encrypt / import-bundle / stats / train --encrypted', () => {
  it('runs the hospital and workstation sides, with progress and an intact activity log', async () => {
    using tmp = tempDir();
    const ws = ['--workspace', join(tmp.dir, 'ws')];
    expect((await homopai(['init', ...ws])).code).toBe(0);
    const kit = join(tmp.dir, 'kit.json');
    const exported = await homopai(['kit', 'export', '--out', kit, ...ws, '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout).shortFingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);

    // Two hospitals, each with its own rows of the pilot and its own identity folder.
    const [head, ...rows] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    for (const hospital of ['H-NORTH', 'H-SOUTH']) {
      const csv = join(tmp.dir, `${hospital}.csv`);
      writeFileSync(csv, [head, ...rows.filter((r) => r.startsWith(`${hospital},`))].join('\n'));
      const bundle = join(tmp.dir, `${hospital}.bundle`);
      const args = ['encrypt', '--kit', kit, '--hospital', hospital, '--in', csv, '--out', bundle, '--hospital-dir', join(tmp.dir, hospital), '--json'];
      const encrypted = await homopai(args);
      expect(encrypted.code).toBe(0);
      expect(JSON.parse(encrypted.stdout)).toMatchObject({ hospital, newIdentity: true });
      const imported = await homopai(['import-bundle', bundle, ...ws, '--json']);
      expect(JSON.parse(imported.stdout)).toMatchObject({ hospital, newHospital: true });
    }
    const replay = await homopai(['import-bundle', join(tmp.dir, 'H-NORTH.bundle'), ...ws]);
    expect(replay.code).toBe(1);
    expect(replay.stderr.trim()).toMatch(/^homopai: bundle .* from "H-NORTH" was already imported/);

    const stats = await homopai(['stats', ...ws, '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ patients: 13, hospitals: ['H-NORTH', 'H-SOUTH'] });
    const trained = await homopai(['train', '--encrypted', '--epochs', '3', '--lr', '0.5', ...ws]);
    expect(trained.code).toBe(0);
    expect(trained.stderr).toMatch(/epoch 3\/3: \|gradient\|/);
    expect(trained.stdout).toMatch(/trained on ciphertexts of 13 patients/);

    const audit = await homopai(['audit', 'verify', ...ws, '--json']);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
  });
});
