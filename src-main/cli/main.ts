import { parseArgs } from 'node:util';
import { checkAuditLog } from '../audit/anchor.ts';
import type { Scaling, SigmoidMode } from '../circuits/inference.ts';
import { PRESETS } from '../ckks/presets.ts';
import type { Progress } from '../common/jobs.ts';
import { samplePath } from '../common/resources.ts';
import { CsvValidationError } from '../ingest/index.ts';
import type { ReleasePolicy, SigmoidDegree } from '../../src-preload/contract.ts';
import { exportAuditLog } from '../services/audit-log.ts';
import { type BenchFigures, runBench, saveBench } from '../services/bench.ts';
import { type Caller, callerFor } from '../services/caller.ts';
import { evaluateRun } from '../services/evaluate.ts';
import { runExperiment } from '../services/experiment.ts';
import { importCsv, type ImportCsvOptions } from '../services/import.ts';
import { checkCsv } from '../services/import-check.ts';
import { nameThing } from '../services/names.ts';
import { createKeySet, KeyHolder, loadRowKey, unlockIntegrity } from '../services/key-sets.ts';
import { predict } from '../services/predict.ts';
import { decryptRun, savePredictions } from '../services/predictions.ts';
import { privacyStatus, tightenPolicy } from '../services/release-policy.ts';
import { selectBatches } from '../services/selection.ts';
import { trainModel } from '../services/train.ts';
import { listRuns } from '../store/predictions.ts';
import { defaultWorkspaceDir, Workspace } from '../store/workspace.ts';
import { type SecretKeyVault, VaultError } from '../vault/vault.ts';
import { benchTable, limitsTable } from './bench-table.ts';
import { federationCommand } from './federation.ts';
import { printable } from './printable.ts';
import { reportCommands } from './report.ts';
import { CLINICIAN_ENV, cliniciansVault, keyHolderVault } from './credentials.ts';
import { keysCommand } from './keys.ts';

const USAGE = `homopai — encrypted logistic regression on hospital vitals (CKKS, Microsoft SEAL)

Usage: homopai <command> [options]

Workspace commands (all take --workspace DIR, default ${defaultWorkspaceDir()}):
  init      [--preset standard|deep] [--custody keychain|passphrase]
                                                create a key set; the secret key is sealed in the OS keychain
                                                (envelope encryption) or a passphrase vault (default); with
                                                HOMOPAI_CLINICIAN_PASSPHRASE (or the keychain) also the
                                                clinicians' credential; a workspace that has one is refused
  keys list                                     every key set: active, being rotated to, or retired
  keys rotate --old archive|destroy [--abort]   re-encrypt every batch and prediction under a new key set,
                                                resumably (Ctrl-C, a crash: run it again); the old key set
                                                stays in use until the commit, then its secret key is kept
                                                unused or destroyed; --abort gives up a rotation in progress
  keys backup --out FILE                        the secret key sealed under HOMOPAI_BACKUP_PASSPHRASE (0600)
  keys restore FILE                             put the secret key back from its backup into the vault
  keys grant-clinicians                         seal the clinicians' credential (integrity key alone) under
                                                HOMOPAI_CLINICIAN_PASSPHRASE or in the keychain
  check     FILE [ingest options]               check every row as import would; nothing stored, exit 1 on problems
  name      model|run ID NAME                   name a model or a run for people (a tagged label; ids stay)
  import    FILE [ingest options]               validate, encrypt and store a CSV (one atomic batch)
  train     FILE [ingest options] [--sigmoid-degree 3|5|7]
                                                train a plaintext model on the key holder's labeled CSV
  train     --encrypted [--batches 1,2|all] [--epochs 5] [--lr 1] [--nesterov]
                                                train on the pooled ciphertexts of hospital bundles; the key
                                                holder decrypts only each epoch's aggregated gradient
  kit export --out FILE                         the encryptor kit for hospitals (public key, no secret)
  import-bundle BUNDLE [--accept-key FINGERPRINT]
                                                verify and store a hospital's signed encrypted bundle;
                                                --accept-key re-pins a hospital's changed signing key, once
                                                confirmed with the hospital out of band
  stats     [--batches 1,2|all]                 encrypted per-feature count, mean, std (aggregates only)
  predict   [--model ID] [--batches 1,2|all] [--scaling folded|explicit] [--sigmoid exact|polynomial]
            [--out FILE.csv]                    encrypted prediction; the key holder decrypts the results
                                                (exact: the logit on ciphertexts, the logistic function after
                                                decryption; polynomial: an approximation on ciphertexts)
  evaluate  [--run ID]                          metrics of a run against the encrypted labels (aggregates only)
  bench     [--patients 19,4096,100000] [--preset P] [--scaling S]
  policy    [set [--min-patients K] [--max-models N] [--epsilon E --budget B]]
                                                the release rule in force and the privacy ledger; set makes
                                                it stricter (k only raised, the cap and epsilon only lowered,
                                                differential privacy once on stays on)
  audit verify [--anchor-key FP]                check the activity log: its hash chain and the signed anchor of
                                                its head (FP pins the anchor's key, from a signed report)
  audit export --out FILE.jsonl                 write the activity log as JSON Lines
  report    --out DIR [--format pdf,html,json] [--since DATE]
                                                a signed report of the workspace for auditors
  report-key --out FILE.pem                     export the public key that verifies this workspace's reports

Hospital command (no workspace, no secret key of the key set):
  encrypt   --kit FILE --hospital NAME --in FILE.csv --out BUNDLE --hospital-dir DIR [ingest options]
                                                validate, pseudonymize, encrypt and sign a bundle; the
                                                hospital's signing key lives in DIR (passphrase vault)

Auditor command (no workspace):
  verify    REPORT [--key FILE.pem]             check a report's signature (manifest or its folder) and the
                                                hash of every file; --key names the signer's exported key

One-shot commands (temporary workspace):
  demo      [--json]                            the whole pipeline on the bundled 19-patient pilot
  run FILE  [ingest options] [--test-fraction 0.3] [--seed N] [--preset P] [--sigmoid-degree D]
            [--scaling folded|explicit] [--sigmoid exact|polynomial] [--json]
                                                split, train, encrypt, predict on ciphertexts, decrypt, evaluate

Ingest options: --features a,b,c  --label COL  --positive VALUE  --missing reject|drop
                --invalid reject|skip (skip: import the valid rows, report the others beside the file)
                --rejects-csv (with skip: also write the rejected rows, 0600, to fix and re-import)
                --duplicates reject|skip|allow (a patient already stored: refuse the file, leave the row
                out, or import it again; default reject)
                --unit COL=UNIT (a column whose header names no unit: BodyTemp=F, Weight=lb, Glucose=mg/dL)
                --range COL=LOW:HIGH (check a column taken as given, e.g. Age=15:70)
                --schema auto|vitals|generic  --hospital NAME
Common: --json (one JSON object on stdout)  --min-patients K (raises the release rule's k for this
        command: every batch in an aggregate holds at least K patients; never below the workspace's)
        --help
Roles are what a command's credential gives, recorded in the activity log: import and import-bundle open
the clinicians' credential (the integrity key alone; HOMOPAI_CLINICIAN_PASSPHRASE, or the keychain) when
there is one, else the key holder's; decrypting commands open the key holder's (HOMOPAI_PASSPHRASE, or the
keychain); audit, verify and policy open nothing.
The vault passphrase is read from HOMOPAI_PASSPHRASE or prompted for; never pass it as an argument.
Progress goes to stderr; on error the exit code is 1 with a one-line reason.`;

const OPTIONS = {
  workspace: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  preset: { type: 'string' },
  features: { type: 'string' },
  label: { type: 'string' },
  positive: { type: 'string' },
  missing: { type: 'string' },
  invalid: { type: 'string' },
  'rejects-csv': { type: 'boolean' },
  duplicates: { type: 'string' },
  unit: { type: 'string', multiple: true },
  range: { type: 'string', multiple: true },
  schema: { type: 'string' },
  hospital: { type: 'string' },
  'sigmoid-degree': { type: 'string' },
  scaling: { type: 'string' },
  sigmoid: { type: 'string' },
  model: { type: 'string' },
  batches: { type: 'string' },
  run: { type: 'string' },
  out: { type: 'string' },
  patients: { type: 'string' },
  'test-fraction': { type: 'string' },
  seed: { type: 'string' },
  custody: { type: 'string' },
  format: { type: 'string' },
  since: { type: 'string' },
  key: { type: 'string' },
  kit: { type: 'string' },
  in: { type: 'string' },
  'hospital-dir': { type: 'string' },
  'accept-key': { type: 'string' },
  'min-patients': { type: 'string' },
  'anchor-key': { type: 'string' },
  'max-models': { type: 'string' },
  epsilon: { type: 'string' },
  budget: { type: 'string' },
  encrypted: { type: 'boolean' },
  epochs: { type: 'string' },
  old: { type: 'string' },
  abort: { type: 'boolean' },
  lr: { type: 'string' },
  nesterov: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

/** COL=VALUE pairs of a repeated option, split at the last "=" (a column name may contain one). */
function pairs(name: string, list: string[] | undefined): [string, string][] {
  return (list ?? []).map((item) => {
    const at = item.lastIndexOf('=');
    if (at <= 0 || at === item.length - 1) throw new UsageError(`--${name} takes COLUMN=VALUE, e.g. --${name} ${name === 'unit' ? 'BodyTemp=F' : 'Age=15:70'}`);
    return [item.slice(0, at), item.slice(at + 1)];
  });
}

function ingestOptions(v: Values): ImportCsvOptions {
  const o: ImportCsvOptions = {};
  const duplicates = oneOf('duplicates', v.duplicates, ['reject', 'skip', 'allow'] as const);
  if (duplicates) o.duplicates = duplicates;
  const units = pairs('unit', v.unit);
  if (units.length > 0) o.units = Object.fromEntries(units);
  const ranges = pairs('range', v.range).map(([column, text]): [string, [number, number]] => {
    const [lo, hi] = text.split(':').map(Number);
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo! < hi!)) throw new UsageError(`--range ${column}=${text}: give LOW:HIGH, e.g. 15:70`);
    return [column, [lo!, hi!]];
  });
  if (ranges.length > 0) o.ranges = Object.fromEntries(ranges);
  const invalid = oneOf('invalid', v.invalid, ['reject', 'skip'] as const);
  if (invalid) o.invalid = invalid;
  if (v['rejects-csv']) {
    if (invalid !== 'skip') throw new UsageError('--rejects-csv goes with --invalid skip');
    o.rejectsCsv = true;
  }
  if (v.features) o.features = v.features.split(',').map((s) => s.trim()).filter(Boolean);
  if (v.label) o.label = v.label;
  if (v.positive) o.positive = v.positive;
  const missing = oneOf('missing', v.missing, ['reject', 'drop'] as const);
  if (missing) o.missing = missing;
  const schema = oneOf('schema', v.schema, ['auto', 'vitals', 'generic'] as const);
  if (schema) o.schema = schema;
  if (v.hospital) o.hospital = v.hospital;
  return o;
}

function sigmoidDegree(v: Values): SigmoidDegree | undefined {
  const d = num('sigmoid-degree', v['sigmoid-degree']);
  if (d === undefined) return undefined;
  if (![3, 5, 7].includes(d)) throw new UsageError('--sigmoid-degree must be 3, 5 or 7');
  return d as SigmoidDegree;
}

function scaling(v: Values): Scaling | undefined {
  return oneOf('scaling', v.scaling, ['folded', 'explicit'] as const);
}

function sigmoidMode(v: Values): SigmoidMode | undefined {
  return oneOf('sigmoid', v.sigmoid, ['exact', 'polynomial'] as const);
}

function fileArg(positionals: string[], command: string): string {
  const f = positionals[1];
  if (!f) throw new UsageError(`${command} needs a FILE argument`);
  return f;
}

/** Progress on stderr: one line per phase when piped, a rewritten line on a terminal. */
function progressPrinter(): (p: Progress) => void {
  let last = '';
  return (p) => {
    const line = `${p.phase}: ${p.done.toLocaleString('en')}${p.total ? ` / ${p.total.toLocaleString('en')}` : ''}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (p.phase !== last) process.stderr.write(`${line}\n`);
    last = p.phase;
  };
}

/** JSON escapes control characters itself; human output has them replaced, as names come from imported files. */
function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${printable(human())}\n`);
}

const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const fixed = (x: number | null): string => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(4));

async function main(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const command = positionals[0];
  if (v.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const json = v.json ?? false;
  const onProgress = progressPrinter();
  const openWs = (): Workspace => Workspace.open(v.workspace ?? defaultWorkspaceDir());
  // The role is what the credential a command opens gives: none (auditor), the clinicians' (integrity key only) or
  // the key holder's (secret key). It is recorded with every entry, never declared.
  let role: 'auditor' | 'clinician' | 'researcher' = 'auditor';
  const vault = async (ws: Workspace, purpose: string, custody?: string): Promise<SecretKeyVault> => {
    role = 'researcher';
    return keyHolderVault(ws, purpose, custody);
  };
  /** For work that tags rows but never decrypts (imports): the clinicians' credential, else the key holder's. */
  const integrity = async (ws: Workspace, purpose: string): Promise<void> => {
    const clinicians = cliniciansVault(ws.dir, ws.requireKeySet().custody);
    if (clinicians) {
      try {
        await unlockIntegrity(ws, clinicians);
        role = 'clinician';
        return;
      } catch (e) {
        if (!(e instanceof VaultError && e.code === 'missing')) throw e;
        // A keychain without the clinicians' entry (a key set made before it existed) falls back to the key holder;
        // a clinicians' passphrase with nothing sealed under it is a credential that was never granted.
        if (clinicians.custody !== 'keychain') {
          throw new Error(`this workspace has no clinicians' credential yet: the key holder grants it with homopai keys grant-clinicians (${CLINICIAN_ENV} set)`);
        }
      }
    }
    await loadRowKey(ws, await vault(ws, purpose));
  };
  const minPatients = num('min-patients', v['min-patients']);
  if (minPatients !== undefined && !(Number.isInteger(minPatients) && minPatients >= 1)) throw new UsageError('--min-patients must be a positive integer');
  const caller = (ws: Workspace): Caller => callerFor(ws, { role, via: 'cli' }, minPatients);
  const federation = { values: v, positionals, json, ingest: () => ingestOptions(v), onProgress, openWs, caller, vault, integrity, print };

  switch (command) {
    case 'demo':
    case 'run': {
      const file = command === 'demo' ? samplePath() : fileArg(positionals, 'run');
      const { report } = await runExperiment(
        file,
        {
          ingest: ingestOptions(v),
          testFraction: command === 'demo' ? 0 : (num('test-fraction', v['test-fraction']) ?? 0.3),
          seed: num('seed', v.seed) ?? 42,
          preset: v.preset ?? 'standard',
          sigmoidDegree: sigmoidDegree(v) ?? 3,
          scaling: scaling(v) ?? 'folded',
          sigmoid: sigmoidMode(v) ?? 'exact',
        },
        { onProgress },
      );
      print(json, report, () => {
        const m = report.metrics;
        const p = report.plaintextMetrics;
        return [
          `${report.file}: trained on ${report.nTrain}, evaluated on ${report.nTest} encrypted patients${report.inSample ? ' (in-sample)' : ''}`,
          `features: ${report.features.join(', ')}`,
          `encrypted  accuracy ${pct(m.accuracy)}  precision ${pct(m.precision)}  recall ${pct(m.recall)}  F1 ${pct(m.f1)}  AUC ${m.auc.toFixed(4)}`,
          `plaintext  accuracy ${pct(p.accuracy)}  precision ${pct(p.precision)}  recall ${pct(p.recall)}  F1 ${pct(p.f1)}  AUC ${p.auc.toFixed(4)}`,
          `confusion (encrypted): TP ${m.confusion.tp}  FP ${m.confusion.fp}  TN ${m.confusion.tn}  FN ${m.confusion.fn}`,
          `fidelity (${report.fidelity.sigmoid} sigmoid): max |p_enc - p_plain| = ${report.fidelity.maxAbsProbError.toExponential(2)} against the plaintext model's exact logistic, label agreement ${pct(report.fidelity.labelAgreement)}` +
            (report.fidelity.againstPolynomial ? `; against the same polynomial in plaintext ${report.fidelity.againstPolynomial.maxAbsProbError.toExponential(2)}` : ''),
          `timings: keygen ${report.timingsMs.keygen.toFixed(0)} ms, encrypt ${report.timingsMs.encrypt.toFixed(0)} ms, predict ${report.timingsMs.predict.toFixed(0)} ms, decrypt ${report.timingsMs.decrypt.toFixed(0)} ms`,
          `params: ${report.params.preset} (N=${report.params.polyModulusDegree}, ${report.params.securityBits}-bit), ` +
            (report.params.sigmoid === 'exact'
              ? 'exact logistic after decrypting the encrypted logit'
              : `degree-${report.params.sigmoidDegree} sigmoid on [-${report.params.sigmoidInterval}, ${report.params.sigmoidInterval}]`) +
            `, ${report.params.scaling} scaling`,
        ].join('\n');
      });
      return;
    }
    case 'init': {
      using ws = openWs();
      const preset = oneOf('preset', v.preset, Object.keys(PRESETS) as (keyof typeof PRESETS)[]) ?? 'standard';
      const custody = oneOf('custody', v.custody, ['keychain', 'passphrase'] as const) ?? 'passphrase';
      role = 'researcher';
      const clinicians = cliniciansVault(ws.dir, custody);
      const { info, keygenMs } = await createKeySet(caller(ws), preset, () => vault(ws, 'to seal the new secret key', custody), [], clinicians);
      print(json, { ...info, keygenMs, clinicianCredential: clinicians !== null }, () =>
        [
          `key set ${info.shortFingerprint} (${info.preset}, N=${info.polyModulusDegree}, ${info.levels} levels, 128-bit) created in ${keygenMs.toFixed(0)} ms`,
          `workspace: ${ws.dir}`,
          clinicians
            ? `clinicians' credential (the integrity key alone: imports, never decrypts) sealed ${custody === 'keychain' ? 'in the keychain' : `under ${CLINICIAN_ENV}`}`
            : `no clinicians' credential yet: clinicians import once the key holder runs homopai keys grant-clinicians with ${CLINICIAN_ENV} set`,
        ].join('\n'),
      );
      return;
    }
    case 'check': {
      // No workspace and no key: the file is read and checked as an import would, and nothing is stored.
      const file = fileArg(positionals, 'check');
      const { rejectsCsv: _, duplicates: __, ...ingest } = ingestOptions(v);
      const r = await checkCsv(file, ingest, { onProgress });
      print(json, r, () =>
        r.totalIssues === 0
          ? `${r.file}: every row passes; ${r.rows} row(s) would be imported (${r.dropped} with missing values dropped)`
          : [
              `${r.file}: ${r.invalidRows > 0 ? `${r.invalidRows} row(s) would be refused, ${r.rows} pass` : 'the file cannot be imported as it is'}`,
              ...r.issues.map((i) => `  ${i.message}`),
              ...(r.totalIssues > r.issues.length ? [`  and ${r.totalIssues - r.issues.length} more`] : []),
            ].join('\n'),
      );
      if (r.totalIssues > 0) process.exitCode = 1;
      return;
    }
    case 'import': {
      using ws = openWs();
      const file = fileArg(positionals, 'import');
      await integrity(ws, 'to tag the stored ciphertexts');
      const r = await importCsv(caller(ws), file, ingestOptions(v), { onProgress });
      print(json, r, () =>
        [
          `imported ${r.rows} patients from ${r.file} as batch ${r.batchId} (${r.blocks} ciphertext block(s), ${r.dropped} rows dropped)`,
          ...(r.rejected.rows > 0
            ? [`skipped ${r.rejected.rows} invalid row(s), reported in ${r.rejected.report}${r.rejected.rejectsCsv ? `; the rows themselves in ${r.rejected.rejectsCsv}` : ''}`]
            : []),
          ...(r.duplicatesSkipped > 0 ? [`left out ${r.duplicatesSkipped} row(s) of patients already stored`] : []),
          `hospitals: ${r.hospitals.join(', ')}`,
          `features: ${r.features.map((f) => `${f.name} [${f.unit}]${f.conversion ? ` from ${f.sourceUnit?.label}` : ''}`).join(', ')}; labeled rows: ${r.labeledRows}`,
          ...r.notes.map((n) => `note: ${n}`),
        ].join('\n'),
      );
      return;
    }
    case 'kit':
    case 'encrypt':
    case 'import-bundle':
    case 'stats':
      return federationCommand(command, federation);
    case 'name': {
      const [, what, id, ...words] = positionals;
      if ((what !== 'model' && what !== 'run') || !id || words.length === 0) throw new UsageError('name needs: model|run ID NAME');
      using ws = openWs();
      // The name's row is tagged like the model's: the key holder's.
      await loadRowKey(ws, await vault(ws, 'to tag the name'));
      const name = nameThing(caller(ws), what, id, words.join(' '));
      print(json, { what, id, name }, () => `${what} ${id} is named "${name}"`);
      return;
    }
    case 'train': {
      if (v.encrypted) return federationCommand('train-encrypted', federation);
      using ws = openWs();
      const file = fileArg(positionals, 'train');
      // The model's row is tagged, and it must meet the workspace's k: both need the key from the vault.
      await loadRowKey(ws, await vault(ws, 'to register the model'));
      const model = await trainModel(caller(ws), file, ingestOptions(v), { sigmoidDegree: sigmoidDegree(v) ?? 3 });
      print(json, model, () =>
        [
          `model ${model.id} trained on ${model.training.rows} rows (${model.training.positives} at-risk)`,
          ...model.features.map((f, j) => `  ${f.name.padEnd(20)} weight ${model.weights[j]!.toFixed(4)}`),
          `  bias ${model.bias.toFixed(4)}; degree-${model.sigmoid.degree} sigmoid on [-${model.sigmoid.interval}, ${model.sigmoid.interval}] (max error ${model.sigmoid.maxError.toFixed(4)})`,
        ].join('\n'),
      );
      return;
    }
    case 'predict': {
      using ws = openWs();
      const batchIds = selectBatches(ws, v.batches);
      // One passphrase for both steps: the row key for the prediction, then the secret key to decrypt its result.
      const keys = await vault(ws, 'to verify the batches and decrypt the predictions');
      await loadRowKey(ws, keys);
      const run = await predict(caller(ws), { modelId: v.model, batchIds, scaling: scaling(v), sigmoid: sigmoidMode(v) }, { onProgress });
      const holder = await KeyHolder.unlock(ws, keys);
      let preds;
      try {
        preds = await decryptRun(caller(ws), holder, run.runId);
      } finally {
        holder.lock();
      }
      if (v.out) await savePredictions(caller(ws), run.runId, preds, v.out);
      const mode = sigmoidMode(v) ?? 'exact';
      print(json, { run_id: run.runId, patients: run.patients, eval_ms: run.evalMs, sigmoid: mode, predictions: preds }, () =>
        [
          `run ${run.runId}: ${run.patients} patients predicted on ciphertexts in ${run.evalMs.toFixed(0)} ms, ` +
            `${mode === 'exact' ? 'exact logistic applied to the decrypted logits' : 'polynomial sigmoid on ciphertexts'}${v.out ? `; written to ${v.out}` : ''}`,
          ...preds.slice(0, 50).map((p) => `  ${p.hospital.padEnd(12)} ${p.patientId.padEnd(14)} ${p.probability.toFixed(4)} ${p.atRisk ? 'AT RISK' : ''}`),
          ...(preds.length > 50 ? [`  … ${preds.length - 50} more (use --out FILE.csv)`] : []),
        ].join('\n'),
      );
      return;
    }
    case 'evaluate': {
      using ws = openWs();
      const runId = num('run', v.run) ?? listRuns(ws.db, null)[0]?.id;
      if (runId === undefined) throw new Error('this workspace has no prediction runs: run homopai predict first');
      const holder = await KeyHolder.unlock(ws, await vault(ws, 'to evaluate'));
      let e;
      try {
        e = await evaluateRun(caller(ws), holder, runId);
      } finally {
        holder.lock();
      }
      print(json, e, () => {
        const m = e.metrics;
        const dp = e.release.epsilon === null ? '' : `, differential privacy: epsilon ${e.release.epsilon} spent`;
        return [
          `run ${runId}: ${e.labeled} labeled patients (every bin and batch at least k = ${e.release.minPatients}${dp})`,
          `accuracy ${pct(m.accuracy)}  precision ${pct(m.precision)}  recall ${pct(m.recall)}  F1 ${pct(m.f1)}  AUC ${fixed(m.auc)}  Brier ${fixed(m.brier)}`,
          `confusion: TP ${m.confusion.tp}  FP ${m.confusion.fp}  TN ${m.confusion.tn}  FN ${m.confusion.fn}`,
          `calibration (predicted -> observed at-risk rate, patients): ${e.calibration.map((c) => `${c.predicted.toFixed(2)}->${c.observed.toFixed(2)} (${c.patients})`).join('  ')}`,
        ].join('\n');
      });
      return;
    }
    case 'bench': {
      const sizes = (v.patients ?? '19,4096,100000').split(',').map((s) => num('patients', s.trim())!);
      const results: BenchFigures[] = [];
      for (const patients of sizes) {
        results.push(await runBench({ patients, preset: v.preset ?? 'standard', scaling: scaling(v) ?? 'folded' }, { onProgress }));
      }
      if (v.workspace) {
        using ws = openWs();
        saveBench(caller(ws), results);
      }
      print(json, results.length === 1 ? results[0] : results, () => `${benchTable(results)}\n\n${limitsTable(results)}`);
      return;
    }
    case 'audit': {
      using ws = openWs();
      if (positionals[1] === 'verify') {
        const pinned = v['anchor-key']?.replace(/[\s-]/g, '').toLowerCase();
        const r = checkAuditLog(ws.dir, ws.db, { keyFingerprint: pinned });
        print(json, r, () => {
          if (!r.ok) return `activity log BROKEN at entry ${r.brokenAt}: ${r.reason}`;
          const anchor = r.anchor
            ? `anchored at entry ${r.anchor.entries} (${r.anchor.at}) by key ${r.anchor.keyFingerprint}${pinned ? ' (pinned)' : ''}` +
              (r.unanchored > 0 ? `; ${r.unanchored} later entr${r.unanchored === 1 ? 'y' : 'ies'} written without the integrity key` : '')
            : 'empty';
          return `activity log intact: ${r.entries} entries, head ${r.head}; ${anchor}`;
        });
        if (!r.ok) process.exitCode = 2;
        return;
      }
      if (positionals[1] === 'export') {
        if (!v.out) throw new UsageError('audit export needs --out FILE.jsonl');
        const { entries: n } = await exportAuditLog(caller(ws), v.out);
        print(json, { entries: n, path: v.out }, () => `${n} entries written to ${v.out}`);
        return;
      }
      throw new UsageError('audit needs a subcommand: verify or export');
    }
    case 'policy': {
      using ws = openWs();
      if (positionals[1] === 'set') {
        // The policy's row is tagged: changing it needs the key holder.
        await loadRowKey(ws, await vault(ws, 'to change the release policy'));
        const change: Partial<ReleasePolicy> = {};
        if (minPatients !== undefined) change.minPatients = minPatients;
        const maxModels = num('max-models', v['max-models']);
        if (maxModels !== undefined) change.maxModelsPerBatch = maxModels;
        const epsilon = num('epsilon', v.epsilon);
        const budget = num('budget', v.budget);
        if (epsilon !== undefined || budget !== undefined) {
          const current = privacyStatus(ws).policy.dp;
          const dp = { epsilon: epsilon ?? current?.epsilon, budget: budget ?? current?.budget };
          if (dp.epsilon === undefined || dp.budget === undefined) throw new UsageError('switching differential privacy on needs both --epsilon and --budget');
          change.dp = { epsilon: dp.epsilon, budget: dp.budget };
        }
        if (Object.keys(change).length === 0) throw new UsageError('policy set needs --min-patients, --max-models, --epsilon or --budget');
        await tightenPolicy(caller(ws), change);
      } else if (positionals[1] !== undefined) {
        throw new UsageError('policy takes no subcommand but set');
      }
      // Shown without a credential, the policy is the activity log's record of it (privacyStatus says so).
      const p = privacyStatus(ws);
      print(json, p, () =>
        [
          `k = ${p.policy.minPatients}: every batch in an aggregate, and every bin of a curve, holds at least this many patients`,
          `at most ${p.policy.maxModelsPerBatch} distinct models applied to one batch`,
          p.policy.dp
            ? `differential privacy on: epsilon ${p.policy.dp.epsilon} per release, budget ${p.policy.dp.budget}, ${p.epsilonSpent.toFixed(2)} spent in ${p.releases.length} release(s)`
            : 'differential privacy off',
        ].join('\n'),
      );
      return;
    }
    case 'report':
    case 'report-key':
    case 'verify':
      return reportCommands[command]({ values: v, positionals, json, openWs, vault, caller, print });
    case 'keys':
      return keysCommand({ values: v, positionals, json, openWs, caller, vault, onProgress, print });
    default:
      throw new UsageError(`unknown command "${command}" (see homopai --help)`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof CsvValidationError) {
    for (const i of e.issues) process.stderr.write(printable(`${i.file}: ${i.message}\n`));
    if (e.totalIssues > e.issues.length) process.stderr.write(`… and ${e.totalIssues - e.issues.length} more\n`);
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`homopai: ${printable(message.split('\n')[0]!)}\n`);
  process.exitCode = 1;
}
