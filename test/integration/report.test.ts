import { caller } from '../helpers/caller.ts';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src-main/audit/log.ts';
import { fixed, int, percent } from '../../src-main/reports/format.ts';
import { type GeneratedReport, generateReport, renderReport } from '../../src-main/services/report.ts';
import { verifyReport } from '../../src-main/reports/manifest.ts';
import { ReportSchema } from '../../src-main/reports/report-schema.ts';
import { openSigningKey, publicKeyPem } from '../../src-main/reports/signing.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { sha256Hex } from '../../src-main/common/files.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../src-main/cli/main.ts');

/** Pixels of one page rendered by pdftoppm, whose default output is binary PPM (P6): a header, then RGB bytes. */
async function pagePixels(pdf: string, page: number, dir: string): Promise<Buffer> {
  const prefix = join(dir, `page-${page}`);
  await run('pdftoppm', ['-r', '60', '-f', String(page), '-l', String(page), '-singlefile', pdf, prefix]);
  const ppm = readFileSync(`${prefix}.ppm`);
  const header = /^P6\s+\d+\s+\d+\s+255\s/.exec(ppm.toString('latin1', 0, 40));
  if (!header) throw new Error('pdftoppm did not write a binary PPM');
  return ppm.subarray(header[0].length);
}

/** Pixels of the charts' accent blue: the filled confusion-matrix cells, the ROC curve, the histogram bars. */
function accentPixels(rgb: Buffer): number {
  let n = 0;
  for (let i = 0; i + 2 < rgb.length; i += 3) {
    if (Math.abs(rgb[i]! - 0x2f) < 40 && Math.abs(rgb[i + 1]! - 0x7f) < 40 && Math.abs(rgb[i + 2]! - 0xbf) < 40) n++;
  }
  return n;
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  const i = Math.floor(bytes.length / 2);
  bytes[i] = bytes[i]! ^ 0x01;
  writeFileSync(path, bytes);
}

describe('signed workspace reports on the sample pipeline', () => {
  const tmp = tempDir();
  let ws: Workspace;
  let vault: PassphraseVault;
  let holder: KeyHolder;
  let out: GeneratedReport;
  let keyPem: string;
  const path = (ext: string): string => join(tmp.dir, 'out', `${out.name}.${ext}`);

  beforeAll(async () => {
    ws = Workspace.open(join(tmp.dir, 'ws'));
    vault = new PassphraseVault(ws.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const imported = await importCsv(caller(ws), samplePath());
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    await predict(caller(ws), { modelId: model.id, batchIds: [imported.batchId] });
    holder = await KeyHolder.unlock(ws, vault);
    out = await generateReport(caller(ws), { outDir: join(tmp.dir, 'out'), vault, holder, role: 'auditor' });
    keyPem = publicKeyPem((await openSigningKey(vault, ws.requireKeySet().fingerprint)).publicKey);
    writeFileSync(join(tmp.dir, 'key.pem'), keyPem);
  });

  afterAll(() => {
    holder.lock();
    ws[Symbol.dispose]();
    tmp[Symbol.dispose]();
  });

  it('writes the three formats, a manifest and its signature, and keeps one signing key', async () => {
    expect(readdirSync(join(tmp.dir, 'out')).sort()).toEqual(
      ['html', 'json', 'manifest.json', 'manifest.sig', 'pdf'].map((ext) => `${out.name}.${ext}`).sort(),
    );
    expect(out.signingKey.created).toBe(true);
    const again = await openSigningKey(vault, ws.requireKeySet().fingerprint);
    expect(again).toMatchObject({ fingerprint: out.signingKey.fingerprint, created: false });
  });

  it('JSON twin parses against the schema and carries the evaluation and the audit head', () => {
    const report = ReportSchema.parse(JSON.parse(readFileSync(path('json'), 'utf8')));
    expect(report).toEqual(out.report);
    expect(report.keySet).toMatchObject({ preset: 'standard', polyModulusDegree: 8192, coeffModulusBits: [50, 35, 35, 35, 50], securityBits: 128 });
    expect(report.data.totals).toEqual({ hospitals: 3, batches: 1, patients: 19, labeled: 19 });
    expect(report.model?.features.map((f) => f.name)).toEqual(['temperature', 'systolic_bp', 'diastolic_bp', 'respiratory_rate', 'spo2']);
    expect(report.evaluation.status).toBe('evaluated');
    if (report.evaluation.status !== 'evaluated') return;
    expect(report.evaluation.metrics.confusion).toEqual({ tp: 3, fp: 0, tn: 16, fn: 0 });
    expect(report.evaluation.roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(report.audit.chain.ok).toBe(true);
    // Counts only: no patient id from the sample appears anywhere in the report.
    expect(readFileSync(path('json'), 'utf8')).not.toMatch(/P-\d{4}/);
  });

  it('PDF text has the key fingerprint and the metrics', async () => {
    const { stdout } = await run('pdftotext', ['-layout', path('pdf'), '-']);
    const e = out.report.evaluation;
    if (e.status !== 'evaluated') throw new Error('the report was not evaluated');
    expect(stdout).toContain(out.report.keySet.fingerprint);
    for (const value of [percent(e.metrics.accuracy), percent(e.metrics.precision), percent(e.metrics.recall), fixed(e.metrics.f1, 3), fixed(e.metrics.auc, 3)]) {
      expect(stdout).toContain(value);
    }
    expect(stdout).toContain(`${int(e.labeled)} labeled`);
    expect(stdout).toMatch(/Confusion matrix[\s\S]*ROC curve/);
    const head = out.report.audit.chain.ok ? out.report.audit.chain.head : '';
    expect(stdout).toContain(head);
  });

  it('PDF draws the charts (pdftoppm): the evaluation page is full of the chart colour, a text page is not', async () => {
    const counts = await Promise.all([1, 2].map(async (p) => accentPixels(await pagePixels(path('pdf'), p, tmp.dir))));
    // Page 1 holds text and tables, its blue only the section headings; the charts bring thousands of pixels.
    expect(counts[0]).toBeLessThan(1000);
    expect(counts[1]).toBeGreaterThan(2000);
  });

  it('HTML is self-contained with the charts inline', () => {
    const html = readFileSync(path('html'), 'utf8');
    expect(html.match(/<svg\b/g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|src=|href=/i);
    expect(html).toContain(out.report.keySet.fingerprint);
  });

  it('renders the same bytes again from the same report (reproducible PDF and HTML)', async () => {
    const again = await renderReport(out.report, out.name, ['pdf', 'html', 'json']);
    for (const f of again) expect(f.bytes.equals(readFileSync(join(tmp.dir, 'out', f.name))), f.name).toBe(true);
  });

  it('verifies with the exported key, and without one says the key was not checked', async () => {
    const r = await verifyReport(join(tmp.dir, 'out'), { name: 'key.pem', pem: keyPem });
    expect(r).toMatchObject({ ok: true, keyTrusted: true, manifest: { report: out.name, signer: { role: 'auditor', keyFingerprint: out.signingKey.fingerprint } } });
    expect(await verifyReport(out.manifestPath)).toMatchObject({ ok: true, keyTrusted: false });
  });

  it('refuses another public key', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const r = await verifyReport(out.manifestPath, { name: 'other.pem', pem: other });
    expect(r).toMatchObject({ ok: false, file: `${out.name}.manifest.json` });
    if (!r.ok) expect(r.problem).toMatch(/does not verify with other\.pem/);
  });

  it('detects a one-byte change in any file and names it (CLI: exit 1)', async () => {
    for (const ext of ['pdf', 'html', 'json', 'manifest.json']) {
      using copy = tempDir();
      for (const f of readdirSync(join(tmp.dir, 'out'))) writeFileSync(join(copy.dir, f), readFileSync(join(tmp.dir, 'out', f)));
      flipByte(join(copy.dir, `${out.name}.${ext}`));
      for (const key of [{ name: 'key.pem', pem: keyPem }, undefined]) {
        const r = await verifyReport(copy.dir, key);
        expect(r, `${ext} with${key ? '' : 'out'} --key`).toMatchObject({ ok: false, file: `${out.name}.${ext}` });
      }
      if (ext === 'pdf') {
        const cli = await run(process.execPath, [CLI, 'verify', copy.dir, '--key', join(tmp.dir, 'key.pem')]).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        );
        expect(cli.code).toBe(1);
        expect(cli.stderr).toContain(`${out.name}.pdf does not match the signed manifest`);
      }
    }
  });

  it('says "not evaluated (locked)" without the key holder', async () => {
    using dir = tempDir();
    const locked = await generateReport(caller(ws), { outDir: dir.dir, vault, formats: ['pdf'], role: 'auditor' });
    expect(locked.report.evaluation).toMatchObject({ status: 'not-evaluated', reason: 'locked', run: { id: 1 } });
    expect(locked.manifest.files.map((f) => f.name)).toEqual([`${locked.name}.pdf`]);
    const { stdout } = await run('pdftotext', [join(dir.dir, `${locked.name}.pdf`), '-']);
    expect(stdout).toContain('not evaluated (locked)');
  });

  it('CLI: report, report-key and verify, with the entries in the activity log', async () => {
    const env = { ...process.env, HOMOPAI_PASSPHRASE: PASSPHRASE };
    const dir = join(tmp.dir, 'cli-out');
    const made = JSON.parse((await run(process.execPath, [CLI, 'report', '--workspace', ws.dir, '--out', dir, '--format', 'pdf,json', '--json'], { env })).stdout);
    expect(made.signingKey).toBe(out.signingKey.fingerprint);
    const pem = join(tmp.dir, 'cli-key.pem');
    await run(process.execPath, [CLI, 'report-key', '--workspace', ws.dir, '--out', pem], { env });
    expect(readFileSync(pem, 'utf8')).toBe(keyPem);
    const verified = await run(process.execPath, [CLI, 'verify', made.manifest, '--key', pem]);
    expect(verified.stdout).toMatch(/signature and 2 file\(s\) verified/);
    expect(verified.stdout).toContain('(researcher)');
    const [report, exported] = listAudit(ws.db).slice(-2);
    expect(report).toMatchObject({ action: 'report', role: 'researcher', detail: { name: made.name, manifestSha256: sha256Hex(readFileSync(made.manifest)) } });
    expect(exported).toMatchObject({ action: 'export', detail: { what: 'report-signing-key', fingerprint: out.signingKey.fingerprint } });
  });
});
