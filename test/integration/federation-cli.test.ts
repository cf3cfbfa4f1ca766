import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const env = { HOMOPAI_PASSPHRASE: PASSPHRASE };
const cli = (args: string[]) => homopai(args, env);

describe('homopai kit / encrypt / import-bundle / stats / train --encrypted', () => {
  it('runs the hospital and workstation sides, with progress and an intact activity log', async () => {
    using tmp = tempDir();
    const ws = ['--workspace', join(tmp.dir, 'ws')];
    expect((await cli(['init', ...ws])).code).toBe(0);
    const kit = join(tmp.dir, 'kit.json');
    const exported = await cli(['kit', 'export', '--out', kit, ...ws, '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout).shortFingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);

    // Two hospitals, each with its own rows of the pilot and its own identity folder.
    const [head, ...rows] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    for (const hospital of ['H-NORTH', 'H-SOUTH']) {
      const csv = join(tmp.dir, `${hospital}.csv`);
      writeFileSync(csv, [head, ...rows.filter((r) => r.startsWith(`${hospital},`))].join('\n'));
      const bundle = join(tmp.dir, `${hospital}.bundle`);
      const args = ['encrypt', '--kit', kit, '--hospital', hospital, '--in', csv, '--out', bundle, '--hospital-dir', join(tmp.dir, hospital), '--json'];
      const encrypted = await cli(args);
      expect(encrypted.code).toBe(0);
      expect(JSON.parse(encrypted.stdout)).toMatchObject({ hospital, newIdentity: true });
      const imported = await cli(['import-bundle', bundle, ...ws, '--json']);
      expect(JSON.parse(imported.stdout)).toMatchObject({ hospital, newHospital: true });
    }
    const replay = await cli(['import-bundle', join(tmp.dir, 'H-NORTH.bundle'), ...ws]);
    expect(replay.code).toBe(1);
    expect(replay.stderr.trim()).toMatch(/^homopai: bundle .* from "H-NORTH" was already imported/);

    // k raised above the cohort's 13 patients: the same totals are refused.
    const strict = await cli(['stats', ...ws, '--min-patients', '20']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/batch \d+ holds \d+ patient\(s\), fewer than k = 20: a batch takes part in an aggregate only with at least k/);
    const stats = await cli(['stats', ...ws, '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ patients: 13, hospitals: ['H-NORTH', 'H-SOUTH'] });
    const trained = await cli(['train', '--encrypted', '--epochs', '3', '--lr', '0.5', ...ws]);
    expect(trained.code).toBe(0);
    expect(trained.stderr).toMatch(/epoch 3\/3: \|gradient\| [\d.]+, training loss [\d.]+, accuracy [\d.]+/);
    expect(trained.stdout).toMatch(/trained on ciphertexts of 13 patients/);

    const audit = await cli(['audit', 'verify', ...ws, '--json']);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
  });
});
