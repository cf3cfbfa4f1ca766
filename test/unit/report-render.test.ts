import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { rocOption } from '../../src-preload/charts.ts';
import { chartSvg } from '../../src-main/reports/charts.ts';
import { reportName, renderReport } from '../../src-main/services/report.ts';
import { type Report, ReportSchema } from '../../src-main/reports/report-schema.ts';
import { tempDir } from '../helpers/workspace.ts';

const run = promisify(execFile);

/** A report as gatherReport would make it, with hostile text wherever a workspace supplies text. */
function fixture(overrides: Partial<Report> = {}): Report {
  return ReportSchema.parse({
    format: 'homopai.report',
    version: 2,
    generatedAt: '2025-01-10T10:15:00.000Z',
    appVersion: '0.1.0',
    generatedBy: { user: 'aud→itor', role: 'auditor' },
    keySet: {
      fingerprint: 'ab'.repeat(32),
      preset: 'standard',
      polyModulusDegree: 8192,
      coeffModulusBits: [50, 35, 35, 35, 50],
      scaleBits: 35,
      levels: 3,
      securityBits: 128,
      custody: 'passphrase',
      createdAt: '2025-01-09T08:00:00.000Z',
    },
    data: {
      hospitals: [{ name: '<script>alert(1)</script>', patients: 19, batches: 1 }],
      batches: [{ id: 1, createdAt: '2025-01-09T09:00:00.000Z', rows: 19, labeledRows: 19, dropped: 0, features: 5 }],
      totals: { hospitals: 1, batches: 1, patients: 19, labeled: 19 },
    },
    model: {
      id: 'model-1',
      createdAt: '2025-01-09T09:30:00.000Z',
      features: [{ name: 'spo2', unit: '%', mean: 96.26, std: 3.35, weight: -1.07 }],
      bias: -3.98,
      sigmoid: { degree: 3, interval: 8, coefficients: [0.5, 0.150067, 0, -0.00159107], maxError: 0.114 },
      training: { method: 'newton-l2', rows: 19, positives: 3, source: 'pilot-vitals.csv' },
    },
    evaluation: {
      status: 'evaluated',
      run: { id: 1, createdAt: '2025-01-09T10:00:00.000Z', modelId: 'model-1', scaling: 'folded', sigmoid: 'exact', batchIds: [1], patients: 19 },
      labeled: 19,
      metrics: { accuracy: 0.9474, precision: 0.75, recall: 1, f1: 0.857, auc: null, brier: 0.0612, confusion: { tp: 3, fp: 1, tn: 15, fn: 0 } },
      roc: [
        { fpr: 0, tpr: 0, threshold: null },
        { fpr: 0.0625, tpr: 1, threshold: 0.6 },
        { fpr: 1, tpr: 1, threshold: 0 },
      ],
      histogram: [
        { lo: 0, hi: 0.3, patients: 14 },
        { lo: 0.3, hi: 1, patients: 5 },
      ],
      byClass: [
        { lo: 0, hi: 0.6, positives: 0, negatives: 14 },
        { lo: 0.6, hi: 1, positives: 3, negatives: 2 },
      ],
      calibration: [
        { lo: 0, hi: 0.6, patients: 14, predicted: 0.05, observed: 0 },
        { lo: 0.6, hi: 1, patients: 5, predicted: 0.71, observed: 0.6 },
      ],
      release: { minPatients: 5, epsilon: null },
    },
    privacy: { policy: { minPatients: 5, maxModelsPerBatch: 3, dp: null }, epsilonSpent: 0, releases: [] },
    benchmarks: { latest: null, history: [] },
    audit: {
      chain: { ok: true, entries: 1, head: 'cd'.repeat(32), anchor: { entries: 1, at: '2025-01-10T10:14:00.000Z', keyFingerprint: 'ef'.repeat(32) }, unanchored: 0 },
      since: null,
      truncated: false,
      entries: [{ seq: 1, at: '2025-01-09T08:00:00.000Z', actor: 'root', role: 'researcher', action: 'import', detail: { file: '=cmd|"/c calc"!A1 </td>' }, hash: 'cd'.repeat(32) }],
    },
    ...overrides,
  });
}

describe('report rendering', () => {
  it('draws a chart as a static SVG: no hover CSS, ids of its own, the same string every time', () => {
    const option = rocOption([
      { fpr: 0, tpr: 0 },
      { fpr: 0.5, tpr: 1 },
    ]);
    const a = chartSvg('roc', option, 300, 250);
    expect(a).toMatch(/^<svg[^>]*viewBox="0 0 300 250"/);
    expect(a).not.toMatch(/<style|class=|\bzr\d+-/);
    expect(a).toContain('id="roc-');
    expect(chartSvg('roc', option, 300, 250)).toBe(a);
  });

  it('escapes workspace text in HTML and keeps scripts out', async () => {
    const [html] = await renderReport(fixture(), 'r', ['html']);
    const text = html!.bytes.toString('utf8');
    expect(text).not.toContain('<script>');
    expect(text).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(text).toContain('&#60;/td&#62;');
    expect(text).toContain("default-src 'none'");
    // AUC undefined (one class) reads n/a, as in the app.
    expect(text).toMatch(/ROC-AUC n\/a/);
  });

  it('reproduces the PDF byte for byte, dated by the report, with unsupported characters replaced', async () => {
    const [a] = await renderReport(fixture(), 'r', ['pdf']);
    const [b] = await renderReport(fixture(), 'r', ['pdf']);
    expect(a!.bytes.equals(b!.bytes)).toBe(true);
    using tmp = tempDir();
    const file = join(tmp.dir, 'r.pdf');
    writeFileSync(file, a!.bytes);
    expect((await run('pdfinfo', [file])).stdout).toMatch(/CreationDate:\s+Fri Jan 10 10:15:00 2025 UTC/);
    const { stdout } = await run('pdftotext', [file, '-']);
    expect(stdout).toContain('aud?itor (auditor)');
    expect(stdout).toContain('p(z) = 0.5 + 0.150067 z - 0.00159107 z^3');
    expect(stdout).toContain('No benchmark has been run');
  });

  it('names a report after its date, in UTC, with characters every file system takes', () => {
    expect(reportName('2025-01-10T10:15:00.000Z')).toBe('homopai-report-20250110-101500');
  });

  it('renders only the formats asked for, the JSON being the model itself', async () => {
    const files = await renderReport(fixture(), 'r', ['json']);
    expect(files.map((f) => f.name)).toEqual(['r.json']);
    expect(ReportSchema.parse(JSON.parse(files[0]!.bytes.toString('utf8')))).toEqual(fixture());
  });
});
