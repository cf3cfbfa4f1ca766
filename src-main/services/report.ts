import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditDetailValue } from '../audit/log.ts';
import type { Workspace } from '../store/workspace.ts';
import { sha256Hex } from '../common/files.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { type ReportDocument, reportDocument } from '../reports/document.ts';
import { APP_VERSION, gatherReport, type GatherOptions } from './report-contents.ts';
import { renderHtml } from '../reports/html.ts';
import { MANIFEST_SUFFIX, type Manifest, signManifest, SIGNATURE_SUFFIX } from '../reports/manifest.ts';
import type { Report } from '../reports/report-schema.ts';
import { renderPdf } from '../reports/pdf.ts';
import { openSigningKey } from '../reports/signing.ts';

export const REPORT_FORMATS = ['pdf', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface GenerateOptions extends GatherOptions {
  outDir: string;
  formats?: readonly ReportFormat[];
  /** Holds the report-signing key (created in it on first use). */
  vault: SecretKeyVault;
}

export interface GeneratedReport {
  name: string;
  report: Report;
  manifest: Manifest;
  manifestPath: string;
  /** What the activity log records, tying the entry to these exact bytes. */
  manifestSha256: string;
  /** Paths of every file written, the manifest and its signature last. */
  paths: string[];
  signingKey: { fingerprint: string; created: boolean };
}

/** The 'report' entry of the activity log: one definition, so the app's and the CLI's entries read alike. */
export function reportAuditDetail(r: GeneratedReport, formats: readonly ReportFormat[]): Record<string, AuditDetailValue> {
  const e = r.report.evaluation;
  const chain = r.report.audit.chain;
  return {
    name: r.name,
    formats: [...formats],
    manifestSha256: r.manifestSha256,
    signingKey: r.signingKey.fingerprint,
    evaluatedRun: e.status === 'evaluated' ? e.run.id : null,
    auditHead: chain.ok ? chain.head : null,
  };
}

/** "homopai-report-20250110-101500" from the report's date (UTC): sortable, and valid on every file system. */
export function reportName(generatedAt: string): string {
  return `homopai-report-${generatedAt.slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

/** The report's bytes in each format, from one model: the JSON twin is the model itself. */
export async function renderReport(report: Report, name: string, formats: readonly ReportFormat[]): Promise<{ name: string; bytes: Buffer }[]> {
  // Laid out (and its charts drawn) once, and only when a format draws it.
  let laidOut: ReportDocument | undefined;
  const doc = (): ReportDocument => (laidOut ??= reportDocument(report, name));
  const out: { name: string; bytes: Buffer }[] = [];
  for (const format of REPORT_FORMATS.filter((f) => formats.includes(f))) {
    const bytes =
      format === 'json'
        ? Buffer.from(`${JSON.stringify(report, null, 2)}\n`)
        : format === 'html'
          ? Buffer.from(renderHtml(doc()))
          : await renderPdf(doc(), { createdAt: new Date(report.generatedAt), author: report.generatedBy.user, creator: `HomoPAI ${report.appVersion}` });
    out.push({ name: `${name}.${format}`, bytes });
  }
  return out;
}

/**
 * Gathers, renders, signs and writes a report: `<name>.pdf|.html|.json`, then `<name>.manifest.json` (size
 * and SHA-256 of each file) and `<name>.manifest.sig` (Ed25519 over the manifest's bytes). Files are created,
 * never overwritten, and the manifest comes last, so a folder never shows a signed manifest before the files
 * it vouches for; on any failure whatever was written is removed.
 */
export async function generateReport(ws: Workspace, opts: GenerateOptions): Promise<GeneratedReport> {
  // The key first: a wrong passphrase should fail before minutes of evaluation, not after.
  const key = await openSigningKey(opts.vault, ws.requireKeySet().fingerprint);
  const report = await gatherReport(ws, opts);
  const name = reportName(report.generatedAt);
  const files = await renderReport(report, name, opts.formats ?? REPORT_FORMATS);
  const { manifest, manifestBytes, signature } = signManifest(
    {
      report: name,
      signedAt: new Date().toISOString(),
      appVersion: APP_VERSION,
      keySet: report.keySet.fingerprint,
      signer: report.generatedBy,
      files,
    },
    key,
  );
  const manifestPath = join(opts.outDir, `${name}${MANIFEST_SUFFIX}`);
  const all = [
    ...files.map((f) => ({ path: join(opts.outDir, f.name), bytes: f.bytes })),
    { path: join(opts.outDir, `${name}${SIGNATURE_SUFFIX}`), bytes: Buffer.from(signature) },
    { path: manifestPath, bytes: manifestBytes },
  ];
  await mkdir(opts.outDir, { recursive: true });
  const written: string[] = [];
  try {
    for (const f of all) {
      await writeFile(f.path, f.bytes, { flag: 'wx' });
      written.push(f.path);
    }
  } catch (e) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw e;
  }
  return { name, report, manifest, manifestPath, manifestSha256: sha256Hex(manifestBytes), paths: written, signingKey: { fingerprint: key.fingerprint, created: key.created } };
}
