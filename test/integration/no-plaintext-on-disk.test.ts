import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caller } from '../helpers/caller.ts';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src-main/audit/log.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { decryptRun } from '../../src-main/services/predictions.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/** Distinctive vitals: values no ciphertext, key or metadata would contain by chance. */
const VALUES = [37.4159265, 38.2718281, 121.414213, 81.7320508, 17.6180339, 96.1421356];

function needles(): { what: string; bytes: Buffer }[] {
  return VALUES.flatMap((v) => {
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(v);
    const f32 = Buffer.alloc(4);
    f32.writeFloatLE(v);
    return [
      { what: `text ${v}`, bytes: Buffer.from(String(v)) },
      { what: `float64 ${v}`, bytes: f64 },
      { what: `float32 ${v}`, bytes: f32 },
    ];
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('plaintext never touches disk', () => {
  it('leaves no imported vital in the database, its WAL, vault files or logs', async () => {
    using src = tempDir('homopai-src-');
    using tmp = tempDir();
    const csv = join(src.dir, 'vitals.csv');
    const rows = ['hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,at_risk'];
    for (let i = 0; i < 40; i++) {
      const [t, t2, s, d, r, o] = VALUES as [number, number, number, number, number, number];
      rows.push(i % 4 === 0 ? `H1,P${i},${t2},95,60,${r + 10},89,1` : `H1,P${i},${t},${s},${d},${r},${o},0`);
    }
    writeFileSync(csv, `${rows.join('\n')}\n`);

    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const { batchId } = await importCsv(caller(ws), csv);
    const model = await trainFromCsv(csv, {});
    registerModel(caller(ws), model);
    const run = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
    const holder = await KeyHolder.unlock(ws, vault);
    await decryptRun(caller(ws), holder, run.runId);
    await evaluateRun(caller(ws), holder, run.runId);
    appendAudit(ws.db, { role: 'researcher', action: 'predict', detail: { run: run.runId } });

    const files = filesUnder(tmp.dir);
    expect(files.some((f) => f.endsWith('homopai.db-wal'))).toBe(true);
    const hits: string[] = [];
    for (const f of files) {
      const content = readFileSync(f);
      for (const n of needles()) if (content.includes(n.bytes)) hits.push(`${f}: ${n.what}`);
    }
    expect(hits).toEqual([]);
    // The test can fail: the source CSV itself is found by the same scan.
    expect(readFileSync(csv).includes(Buffer.from(String(VALUES[0])))).toBe(true);
  });
});
