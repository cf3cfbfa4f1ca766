import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src-preload/contract.ts';
import { listAudit } from '../../src-main/audit/log.ts';
import { writeCohortCsv } from '../../src-main/ingest/synthetic-cohort.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE, SHARED, tempDir } from '../helpers/workspace.ts';

/*
 * The files clinicians really have, through the CLI: each known vital recognised on its own whatever else the file
 * holds, a million-row export with a few bad rows imported without them (and the bad rows named), and the same
 * export imported twice refused.
 */
const ENV = { HOMOPAI_PASSPHRASE: PASSPHRASE };

async function cli(ws: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return homopai([...args, '--workspace', ws], ENV);
}

describe('clinicians’ files', () => {
  const tmp = tempDir('homopai-files-');
  const ws = join(tmp.dir, 'ws');
  beforeAll(async () => {
    expect((await cli(ws, ['init'])).code).toBe(0);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('imports maternal-health-risk.csv with BodyTemp recognised as °F and stored in °C, both pressures recognised', async () => {
    const maternal = join(tmp.dir, 'maternal.csv');
    copyFileSync(join(SHARED, 'maternal-health-risk.csv'), maternal);
    const r = await cli(ws, ['import', maternal, '--label', 'RiskLevel', '--positive', 'high risk', '--invalid', 'skip', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as ImportResult;
    expect(result.features.map((f) => [f.source, f.name, f.sourceUnit?.label, f.unit])).toEqual([
      ['Age', 'Age', undefined, ''],
      ['SystolicBP', 'systolic_bp', 'mmHg', 'mmHg'],
      ['DiastolicBP', 'diastolic_bp', 'mmHg', 'mmHg'],
      ['BloodSugar', 'glucose', 'mmol/L', 'mmol/L'],
      ['BodyTemp', 'temperature', '°F', '°C'],
      ['HeartRate', 'heart_rate', 'bpm', 'bpm'],
    ]);
    expect(result.features.find((f) => f.name === 'temperature')).toMatchObject({ conversion: '°F → °C', range: [25, 45] });
    // The two heart rates of 7 bpm are out of range: left out and named, the 1,012 others imported.
    expect(result.rows).toBe(1012);
    expect(result.rejected).toMatchObject({ rows: 2, report: join(tmp.dir, 'maternal.rejects.txt'), rejectsCsv: null });
    expect(readFileSync(result.rejected.report!, 'utf8')).toContain('row 501, column "HeartRate": out of physiological range 20–300 bpm');
  });

  it('asks for the unit of a column its header and values do not settle, and takes it when stated', async () => {
    const csv = join(tmp.dir, 'weights.csv');
    writeFileSync(csv, 'patient_id,temp,sbp,dbp,rr,spo2,weight,at_risk\nW1,36.8,120,80,14,98,70,0\nW2,37.9,135,85,20,94,82,1\nW3,36.5,118,76,13,99,95,0\nW4,38.6,142,90,24,92,64,1\nW5,36.9,125,82,16,97,77,0\n');
    const asked = await cli(ws, ['import', csv]);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/column "weight": weight: the header names no unit and the column has values that could be kg or lb .*--unit "weight=kg"/);
    const stated = await cli(ws, ['import', csv, '--unit', 'weight=lb', '--json']);
    expect(stated.code).toBe(0);
    expect((JSON.parse(stated.stdout) as ImportResult).features.find((f) => f.name === 'weight')).toMatchObject({ unit: 'kg', conversion: 'lb → kg' });
  });

  it('refuses the same export imported twice, naming the rows; --duplicates skip leaves them out, allow imports them', async () => {
    const again = await cli(ws, ['import', SAMPLE]);
    expect(again.code).toBe(0);
    const twice = await cli(ws, ['import', SAMPLE]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/pilot-vitals\.csv: row 2: this patient \(hospital and id\) is already stored/);
    expect(twice.stderr).toMatch(/\(19 issues in total\)/);
    const skipped = await cli(ws, ['import', SAMPLE, '--duplicates', 'skip']);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toMatch(/every row is a patient already stored \(19 left out\); nothing to import/);
    const allowed = await cli(ws, ['import', SAMPLE, '--duplicates', 'allow', '--json']);
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.stdout) as ImportResult).rows).toBe(19);
  });

  it('imports a million-row export’s good rows with --invalid skip, names the 28 bad ones, and logs the count', async () => {
    const big = join(tmp.dir, 'million.csv');
    await writeCohortCsv(big, { patients: 1_000_000, seed: 13, hospitals: 4 });
    // 28 rows whose diastolic pressure is not below systolic, spread over the file.
    const lines = readFileSync(big, 'utf8').split('\n');
    const bad = Array.from({ length: 28 }, (_, i) => 1 + Math.floor(((i + 0.5) * (lines.length - 2)) / 28));
    for (const at of bad) {
      const cells = lines[at]!.split(',');
      cells[4] = String(Number(cells[3]) + 5);
      lines[at] = cells.join(',');
    }
    writeFileSync(big, lines.join('\n'));
    const fresh = join(tmp.dir, 'ws-million');
    expect((await cli(fresh, ['init'])).code).toBe(0);
    const refusedWhole = await cli(fresh, ['import', big]);
    expect(refusedWhole.code).toBe(1);
    expect(refusedWhole.stderr).toMatch(/\(28 issues in total\)/);
    const r = await cli(fresh, ['import', big, '--invalid', 'skip', '--rejects-csv', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as ImportResult;
    expect(result.rows).toBe(1_000_000 - 28);
    expect(result.rejected.rows).toBe(28);
    const report = readFileSync(result.rejected.report!, 'utf8');
    for (const at of bad) expect(report).toContain(`row ${at + 1}, column "diastolic_bp": diastolic pressure is not below systolic`);
    // The rejected rows themselves, asked for, header first, owner-only.
    const rejects = readFileSync(result.rejected.rejectsCsv!, 'utf8').trim().split('\r\n');
    expect(rejects).toHaveLength(29);
    expect(rejects[1]).toBe(lines[bad[0]!]);
    expect(statSync(result.rejected.rejectsCsv!).mode & 0o777).toBe(0o600);
    using w = Workspace.open(fresh);
    expect(listAudit(w.db, { action: 'import' }).at(-1)!.detail).toMatchObject({ rows: 999_972, skipped: 28 });
  });
});
