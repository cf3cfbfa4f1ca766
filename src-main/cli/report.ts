import { readFile } from 'node:fs/promises';
import { shortFingerprint } from '../ckks/keys.ts';
import { utc } from '../reports/format.ts';
import { verifyReport } from '../reports/manifest.ts';
import { publicKeyPem } from '../reports/signing.ts';
import type { Caller } from '../services/caller.ts';
import { KeyHolder } from '../services/key-sets.ts';
import { exportReportKey, generateReport, REPORT_FORMATS, type ReportFormat, signingKey } from '../services/report.ts';
import type { Workspace } from '../store/workspace.ts';
import type { SecretKeyVault } from '../vault/vault.ts';

/** What the report commands need from the CLI's entry point (src-main/cli/main.ts). */
export interface ReportCli {
  values: { out?: string; format?: string; since?: string; key?: string };
  positionals: string[];
  json: boolean;
  openWs(): Workspace;
  vault(ws: Workspace, purpose: string): Promise<SecretKeyVault>;
  caller(ws: Workspace): Caller;
  print(json: boolean, value: unknown, human: () => string): void;
}

function formats(list: string | undefined): ReportFormat[] {
  if (list === undefined) return [...REPORT_FORMATS];
  const chosen = list.split(',').map((s) => s.trim());
  const unknown = chosen.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || chosen.length === 0) throw new Error(`--format takes a list of ${REPORT_FORMATS.join(', ')}`);
  return chosen as ReportFormat[];
}

/** `homopai report --out DIR [--format pdf,html,json] [--since DATE]` */
async function reportCommand(cli: ReportCli): Promise<void> {
  if (!cli.values.out) throw new Error('report needs --out DIR');
  const chosen = formats(cli.values.format);
  // Audit timestamps are ISO-8601 UTC and compared as text: anything else would select nonsense silently.
  if (cli.values.since !== undefined && !/^\d{4}-\d\d-\d\d(T[\d:.]+Z?)?$/.test(cli.values.since)) {
    throw new Error('--since takes a date (YYYY-MM-DD) or an ISO-8601 UTC timestamp');
  }
  using ws = cli.openWs();
  // One vault for both: it unlocks the key set (the evaluation decrypts) and holds the signing key.
  const vault = await cli.vault(ws, 'to evaluate and sign the report');
  const holder = await KeyHolder.unlock(ws, vault);
  try {
    const r = await generateReport(cli.caller(ws), {
      outDir: cli.values.out,
      formats: chosen,
      vault,
      holder,
      role: 'researcher',
      since: cli.values.since,
    });
    cli.print(cli.json, { name: r.name, files: r.paths, manifest: r.manifestPath, signingKey: r.signingKey.fingerprint }, () =>
      [
        `report ${r.name} signed with key ${shortFingerprint(r.signingKey.fingerprint)}${r.signingKey.created ? ' (new: export it with homopai report-key)' : ''}`,
        ...r.paths.map((p) => `  ${p}`),
      ].join('\n'),
    );
  } finally {
    holder.lock();
  }
}

/** `homopai report-key --out key.pem`: the public half, for auditors to verify reports with. */
async function reportKeyCommand(cli: ReportCli): Promise<void> {
  if (!cli.values.out) throw new Error('report-key needs --out FILE.pem');
  using ws = cli.openWs();
  const caller = cli.caller(ws);
  const key = await signingKey(caller, await cli.vault(ws, 'to open the report-signing key'));
  await exportReportKey(caller, { pem: publicKeyPem(key.publicKey), fingerprint: key.fingerprint }, cli.values.out);
  cli.print(cli.json, { fingerprint: key.fingerprint, path: cli.values.out }, () => `report-signing public key ${shortFingerprint(key.fingerprint)} written to ${cli.values.out}\nfingerprint (SHA-256 of the key): ${key.fingerprint}`);
}

/** `homopai verify <manifest or dir> [--key key.pem]`: needs no workspace, so an auditor can run it anywhere. */
async function verifyCommand(cli: Pick<ReportCli, 'values' | 'positionals' | 'json' | 'print'>): Promise<void> {
  const target = cli.positionals[1];
  if (!target) throw new Error('verify needs a report manifest or the folder holding it');
  const key = cli.values.key === undefined ? undefined : { name: cli.values.key, pem: await readFile(cli.values.key, 'utf8') };
  const r = await verifyReport(target, key);
  if (!r.ok) throw new Error(`report NOT verified: ${r.file} ${r.problem}`);
  const m = r.manifest;
  cli.print(cli.json, { ok: true, manifest: m, keyTrusted: r.keyTrusted }, () =>
    [
      `report ${m.report}: signature and ${m.files.length} file(s) verified`,
      `signed ${utc(m.signedAt)} by ${m.signer.user} (${m.signer.role}) with HomoPAI ${m.appVersion}`,
      `signing key ${shortFingerprint(m.signer.keyFingerprint)} (${m.signer.keyFingerprint})`,
      `key set ${shortFingerprint(m.keySet)}`,
      ...m.files.map((f) => `  ${f.name}  ${f.bytes.toLocaleString('en-US')} bytes  sha256 ${f.sha256}`),
      ...(r.keyTrusted
        ? []
        : ['warning: no --key given: checked against the key inside the manifest, which proves the files are intact, not who signed them']),
    ].join('\n'),
  );
}

export const reportCommands = { report: reportCommand, 'report-key': reportKeyCommand, verify: verifyCommand } as const;
