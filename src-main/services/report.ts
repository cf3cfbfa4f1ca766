import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex, writeFileAtomic } from '../common/files.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { type ReportDocument, reportDocument } from '../reports/document.ts';
import { APP_VERSION, gatherReport, type GatherOptions } from './report-contents.ts';
import { renderHtml } from '../reports/html.ts';
import { MANIFEST_SUFFIX, type Manifest, signManifest, SIGNATURE_SUFFIX, verifyReport, type VerifyResult } from '../reports/manifest.ts';
import { listAudit } from '../audit/log.ts';
import type { Report } from '../reports/report-schema.ts';
import { renderPdf } from '../reports/pdf.ts';
import { openSigningKey, type SigningKey } from '../reports/signing.ts';
import type { Caller } from './caller.ts';

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
export async function generateReport(caller: Caller, opts: GenerateOptions): Promise<GeneratedReport> {
  // The key first: a wrong passphrase should fail before minutes of evaluation, not after.
  const key = await signingKey(caller, opts.vault);
  const report = await gatherReport(caller, opts);
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
  const e = report.evaluation;
  const formats = opts.formats ?? REPORT_FORMATS;
  const manifestSha256 = sha256Hex(manifestBytes);
  caller.audit('report', {
    name,
    formats: [...formats],
    manifestSha256,
    signingKey: key.fingerprint,
    evaluatedRun: e.status === 'evaluated' ? e.run.id : null,
    auditHead: report.audit.chain.ok ? report.audit.chain.head : null,
  });
  return { name, report, manifest, manifestPath, manifestSha256, paths: written, signingKey: { fingerprint: key.fingerprint, created: key.created } };
}

/** The workstation's report-signing key, generated (and recorded) on first use. */
export async function signingKey(caller: Caller, vault: SecretKeyVault): Promise<SigningKey> {
  const key = await openSigningKey(vault, caller.ws.requireKeySet().fingerprint);
  if (key.created) caller.audit('keygen', { key: 'report-signing', fingerprint: key.fingerprint });
  return key;
}

/**
 * Verifies a report on disk with public material only, as an auditor may: the files against the signed
 * manifest, and the signer against the report keys this workspace's activity log recorded (its keygen
 * entries, chained and anchored), so a report signed elsewhere, with a key slipped into its own manifest, fails.
 */
export async function verifyWorkstationReport(caller: Caller, path: string): Promise<VerifyResult> {
  const v = await verifyReport(path);
  if (!v.ok) return v;
  const recorded = new Set(listAudit(caller.ws.db, { action: 'keygen' }).filter((e) => e.detail['key'] === 'report-signing').map((e) => e.detail['fingerprint']));
  if (!recorded.has(v.manifest.signer.keyFingerprint)) {
    return { ok: false, file: v.manifestPath, problem: `is signed by key ${v.manifest.signer.keyFingerprint.slice(0, 16)}…, which this workspace's activity log never recorded as its report key` };
  }
  return { ...v, keyTrusted: true };
}

/** Writes the public key that verifies this workstation's reports (PEM) and records the export. */
export async function exportReportKey(caller: Caller, key: { pem: string; fingerprint: string }, out: string): Promise<{ fingerprint: string; path: string }> {
  await writeFileAtomic(out, key.pem);
  caller.audit('export', { what: 'report-signing-key', fingerprint: key.fingerprint });
  return { fingerprint: key.fingerprint, path: out };
}
