import { basename } from 'node:path';
import type { z } from 'zod';
import type { Api, Channel, Res } from '../../src-preload/contract.ts';
import { AUDIT_ACTIONS, type AuditAction } from '../audit/actions.ts';
import { checkAuditLog } from '../audit/anchor.ts';
import { listAudit } from '../audit/log.ts';
import { shortFingerprint } from '../ckks/keys.ts';
import { PRESETS, presetLevels } from '../ckks/presets.ts';
import { BundleError } from '../federation/errors.ts';
import { CsvValidationError, planColumns } from '../ingest/index.ts';
import type { Metrics } from '../ml/metrics.ts';
import type { Model } from '../ml/model.ts';
import { NOT_EVALUATED_REASONS } from '../reports/report-schema.ts';
import { SIGNATURE_SUFFIX, verifyReport, type VerifyResult } from '../reports/manifest.ts';
import { exportAuditLog } from '../services/audit-log.ts';
import { listBench, runBench, saveBench } from '../services/bench.ts';
import { importBundle } from '../services/bundle-import.ts';
import type { Caller } from '../services/caller.ts';
import { evaluateRun } from '../services/evaluate.ts';
import { importCsv } from '../services/import.ts';
import { createKeySet, KeyHolder, keySetInfo, listKeySetInfos, openAsAuditor, unlockClinician, unlockKeySet } from '../services/key-sets.ts';
import { rotateKeys } from '../services/key-rotation.ts';
import { listModels, trainersOf } from '../services/models.ts';
import { predict } from '../services/predict.ts';
import { exportPredictions, holdDecryptedRun } from '../services/predictions.ts';
import { checkCsv } from '../services/import-check.ts';
import { namesFor, nameThing } from '../services/names.ts';
import { exportReportKey, type GeneratedReport, generateReport, REPORT_FORMATS, type ReportFormat, signingKey, verifyWorkstationReport } from '../services/report.ts';
import { privacyStatus } from '../services/release-policy.ts';
import { trainChecked } from '../services/train.ts';
import { trainEncrypted } from '../services/train-encrypted.ts';
import { countPatients, getBatch, hospitalSummary, listBatches, patientsOfBatch } from '../store/batches.ts';
import { batchStorage } from '../store/ciphertexts.ts';
import { activeKeySet } from '../store/keysets.ts';
import { getRun, listRuns, type PredictionRun } from '../store/predictions.ts';
import { vaultFor } from '../vault/select.ts';
import { damagedBatches } from './integrity.ts';
import type { Session } from './session.ts';

/** What a handler receives: the request after its schema has parsed it (defaults applied, unknown keys dropped). */
type Parsed<C extends Channel> = z.output<(typeof Api)[C]['req']>;
export type Handlers = { [C in Channel]: (req: Parsed<C>) => Promise<Res<C>> };

export interface Dialogs {
  pickCsv(): Promise<string | null>;
  pickBundle(): Promise<string | null>;
  pickSavePath(defaultName: string): Promise<string | null>;
  pickDirectory(purpose: 'save-report' | 'open-report'): Promise<string | null>;
}

function modelInfo(m: Model, name: string | null = null, trainedBy: string | null = null): Res<'models.list'>[number] {
  return {
    id: m.id,
    name,
    trainedBy,
    createdAt: m.createdAt,
    features: m.features,
    weights: m.weights,
    bias: m.bias,
    sigmoid: m.sigmoid,
    training: { method: m.training.method, rows: m.training.rows, positives: m.training.positives, source: m.training.source },
  };
}

function runInfo(r: PredictionRun, name: string | null = null): Res<'predict.run'> {
  return { id: r.id, name, modelId: r.modelId, scaling: r.scaling, sigmoid: r.sigmoid, batchIds: r.batchIds, patients: r.patients, createdAt: r.createdAt };
}

/** AUC and ROC rates are undefined (NaN) when the labels hold one class; NaN crosses neither JSON nor zod. */
function defined(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

function metrics(m: Metrics): Res<'evaluate.run'>['metrics'] {
  return { accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1, auc: defined(m.auc), brier: defined(m.brier), confusion: { ...m.confusion } };
}

function auditAction(action: string): AuditAction {
  const known = AUDIT_ACTIONS.find((a) => a === action);
  if (!known) throw new Error(`unknown audit action "${action.slice(0, 40)}" (known: ${AUDIT_ACTIONS.join(', ')})`);
  return known;
}

// The whole log can be large; a caller that names no limit gets the most recent entries.
const DEFAULT_AUDIT_LIMIT = 1000;

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** What the Reports screen shows of a report just written: its files and the facts it states, aggregates only. */
function reportInfo(r: GeneratedReport, directory: string, newSigningKey: boolean): NonNullable<Res<'reports.generate'>> {
  const { report, manifest } = r;
  const e = report.evaluation;
  const chain = report.audit.chain;
  return {
    name: r.name,
    directory,
    files: manifest.files,
    manifest: basename(r.manifestPath),
    signature: `${r.name}${SIGNATURE_SUFFIX}`,
    manifestSha256: r.manifestSha256,
    signer: r.signingKey.fingerprint,
    newSigningKey,
    signedAt: manifest.signedAt,
    generatedBy: report.generatedBy,
    keySet: report.keySet,
    totals: report.data.totals,
    model: report.model && { id: report.model.id, features: report.model.features.map((f) => f.name), sigmoidDegree: report.model.sigmoid.degree },
    evaluation:
      e.status === 'evaluated'
        ? { evaluated: true, runId: e.run.id, modelId: e.run.modelId, labeled: e.labeled, metrics: e.metrics }
        : { evaluated: false, reason: NOT_EVALUATED_REASONS[e.reason] },
    audit: { entries: chain.entries, chainOk: chain.ok, head: chain.ok ? chain.head : null },
  };
}

export function createHandlers(session: Session, dialogs: Dialogs): Handlers {
  const ws = () => session.workspace();
  /** Every use case runs in the session's queue of writes, as its unlocked role. */
  const run = <T>(work: (caller: Caller) => T | Promise<T>): Promise<T> => session.write(() => work(session.caller()));
  /*
   * The report signed last: what Verify re-reads and whose public key is saved. Held here rather than named by
   * the renderer, so neither call can be pointed at another path, and verification trusts the key that signed.
   */
  let lastReport: { manifestPath: string; publicKeyPem: string; fingerprint: string } | null = null;

  function requireLastReport(): NonNullable<typeof lastReport> {
    if (!lastReport) throw new Error('no report has been generated since the app started: generate one first');
    return lastReport;
  }

  async function status(): Promise<Res<'session.status'>> {
    const keySet = activeKeySet(ws().db);
    const keychain = await session.keychainState();
    return {
      workspace: session.workspaceDir,
      keySet: keySet ? keySetInfo(keySet) : null,
      unlocked: session.role !== null,
      role: session.role,
      keychainAvailable: keychain.ok,
      keychainProblem: keychain.ok ? null : keychain.reason,
    };
  }

  return {
    'session.status': status,

    'presets.list': async () =>
      Object.values(PRESETS).map((p) => ({
        name: p.name,
        summary: p.summary,
        polyModulusDegree: p.polyModulusDegree,
        coeffModulusBits: [...p.coeffModulusBits],
        levels: presetLevels(p),
        securityBits: p.securityBits,
      })),

    'keys.create': async (req) => {
      const vault = vaultFor(session.workspaceDir, req.custody, req.passphrase);
      const clinicians = req.custody === 'keychain' || req.clinicianPassphrase ? vaultFor(session.workspaceDir, req.custody, req.clinicianPassphrase) : null;
      await session.write(() => createKeySet(session.callerAs('researcher'), req.preset, () => vault, [], clinicians));
      session.begin('researcher', await KeyHolder.unlock(ws(), vault));
      return status();
    },

    'keys.unlock': async (req) => {
      const caller = session.callerAs(req.role);
      if (req.role === 'researcher') {
        const vault = vaultFor(session.workspaceDir, req.custody, req.passphrase);
        session.begin('researcher', await session.write(() => unlockKeySet(caller, vault)));
      } else if (req.role === 'clinician') {
        const vault = vaultFor(session.workspaceDir, req.custody, req.passphrase);
        await session.write(() => unlockClinician(caller, vault));
        session.begin('clinician', null);
      } else {
        await session.write(() => openAsAuditor(caller));
        session.begin('auditor', null);
      }
      // The Patients screen's integrity check reads every blob (a second at a million patients): it starts now,
      // in slices, and the screen joins it. A failure is left for that screen's own call to report.
      damagedBatches(ws().db, ws().rowMacIfLoaded()).catch(() => undefined);
      return status();
    },

    'keys.lock': async () => {
      await session.lock('user');
      return status();
    },

    'keys.list': async () => listKeySetInfos(ws()),

    'keys.rotate': async (req) => {
      const holder = session.holder();
      const custody = ws().requireKeySet().custody;
      const vault = vaultFor(session.workspaceDir, custody, req.passphrase);
      // With keychain custody the clinicians' credential is resealed for the new key set; a passphrase one cannot be
      // without the clinicians' passphrase, which the key holder grants again.
      const clinicians = custody === 'keychain' ? vaultFor(session.workspaceDir, 'keychain', undefined) : null;
      const r = await session.job(req.jobId, (hooks) => run((c) => rotateKeys(c, holder, vault, { old: req.old, clinicians }, hooks)));
      // The session goes on under the new key set, as the key holder.
      session.begin('researcher', await KeyHolder.unlock(ws(), vault));
      return r;
    },

    'files.pickCsv': async () => {
      const path = await dialogs.pickCsv();
      if (path !== null) session.remember(path);
      return path;
    },

    'files.pickBundle': async () => {
      const path = await dialogs.pickBundle();
      if (path !== null) session.remember(path);
      return path;
    },

    'import.preview': async (req) => {
      // A column whose unit only the user can settle is shown as needing one, for the unit picker; the import refuses it.
      const plan = await planColumns(session.requirePicked(req.path), { ...req.options, unitsUndecided: 'show' });
      return {
        file: basename(req.path),
        schema: plan.schema,
        delimiter: plan.delimiter,
        features: plan.features,
        label: plan.label,
        hospitalColumn: plan.hospitalColumn,
        patientColumn: plan.patientColumn,
        notes: plan.notes,
      };
    },

    'import.check': async (req) => {
      const path = session.requirePicked(req.path);
      const { rejectsCsv: _, duplicates: __, ...ingest } = req.options ?? {};
      return session.job(req.jobId, (hooks) => checkCsv(path, ingest, hooks));
    },

    'import.run': async (req) => {
      const path = session.requirePicked(req.path);
      try {
        const result = await session.job(req.jobId, (hooks) => run((c) => importCsv(c, path, req.options ?? {}, hooks, { holder: session.holderIfHeld() ?? undefined })));
        return { ok: true, result };
      } catch (e) {
        if (!(e instanceof CsvValidationError)) throw e;
        return { ok: false, file: e.file, issues: e.issues, totalIssues: e.totalIssues };
      }
    },

    'import.bundle': async (req) => {
      const path = session.requirePicked(req.path);
      try {
        const result = await session.job(req.jobId, (hooks) => run((c) => importBundle(c, path, { acceptKey: req.acceptKey, duplicates: req.duplicates }, hooks)));
        return { ok: true, result };
      } catch (e) {
        if (!(e instanceof BundleError)) throw e;
        return { ok: false, file: basename(path), reason: e.code, message: e.message, offeredKey: e.offeredKey };
      }
    },

    'patients.overview': async () => {
      const db = ws().db;
      const storage = batchStorage(db);
      const damaged = await damagedBatches(db, ws().rowMacIfLoaded());
      return {
        hospitals: hospitalSummary(db),
        batches: listBatches(db).map((b) => {
          const s = storage.get(b.id) ?? { bytes: 0, ciphertexts: 0, level: 0 };
          return {
            id: b.id,
            origin: b.origin,
            sourceName: b.sourceName,
            sourceSha256: b.sourceSha256,
            rows: b.rows,
            dropped: b.dropped,
            labeledRows: b.labeledRows,
            features: b.features,
            keyFingerprint: b.keyFingerprint,
            createdAt: b.createdAt,
            ciphertexts: s.ciphertexts,
            ciphertextBytes: s.bytes,
            level: s.level,
            integrity: damaged.has(b.id) ? 'damaged' : 'ok',
          };
        }),
      };
    },

    'patients.list': async (req) => {
      if (!getBatch(ws().db, req.batchId)) throw new Error(`no batch ${req.batchId} in this workspace`);
      const db = ws().db;
      return { total: countPatients(db, req.batchId), patients: patientsOfBatch(db, req.batchId, req) };
    },

    'models.list': async () => {
      const names = namesFor(ws(), 'model');
      const trainers = trainersOf(ws());
      return listModels(ws()).map((m) => modelInfo(m, names.get(m.id) ?? null, trainers.get(m.id) ?? null));
    },

    'names.set': async (req) => ({ name: await run((c) => nameThing(c, req.what, req.id, req.name)) }),

    'models.train': async (req) => {
      const path = session.requirePicked(req.path);
      const options = { ingest: req.options ?? {}, testFraction: req.testFraction ?? 0.3, seed: req.seed, sigmoidDegree: req.sigmoidDegree };
      const { report, model } = await session.job(req.jobId, (hooks) => run((c) => trainChecked(c, path, options, hooks)));
      return {
        model: modelInfo(model),
        check: {
          nTrain: report.nTrain,
          nTest: report.nTest,
          metrics: metrics(report.metrics),
          plaintextMetrics: metrics(report.plaintextMetrics),
          fidelity: { sigmoid: report.fidelity.sigmoid, maxAbsProbError: report.fidelity.maxAbsProbError, labelAgreement: report.fidelity.labelAgreement },
        },
      };
    },

    'models.trainEncrypted': async (req) => {
      const holder = session.holder();
      const options = { epochs: req.epochs, lr: req.lr, l2: req.l2, nesterov: req.nesterov };
      const r = await session.job(req.jobId, (hooks) => run((c) => trainEncrypted(c, holder, req.batchIds, options, hooks)));
      return {
        model: modelInfo(r.model),
        epochs: r.epochs,
        prepareMs: r.prepareMs,
        cohort: { patients: r.stats.patients, labeledPatients: r.stats.labeledPatients, hospitals: r.stats.hospitals },
        scaler: r.model.features.map((f, j) => ({ name: f.name, unit: f.unit, mean: r.model.scaler.mean[j]!, std: r.model.scaler.std[j]! })),
      };
    },

    'predict.run': async (req) => {
      const r = await session.job(req.jobId, (hooks) => run((c) => predict(c, { modelId: req.modelId, batchIds: req.batchIds, scaling: req.scaling, sigmoid: req.sigmoid }, hooks)));
      return runInfo(getRun(ws().db, ws().rowMac(), r.runId)!);
    },

    'predict.runs': async () => {
      const names = namesFor(ws(), 'run');
      return listRuns(ws().db, ws().rowMacIfLoaded()).map((r) => runInfo(r, names.get(String(r.id)) ?? null));
    },

    'predictions.decrypt': async (req) => {
      const holder = session.holder();
      const held = session.holdDecrypted(await run((c) => holdDecryptedRun(c, holder, req.runId)), holder);
      return { runId: held.runId, patients: held.patients, atRisk: held.atRisk };
    },

    'predictions.page': async (req) => session.heldDecrypted(req.runId).page(req),

    'predictions.exportCsv': async (req) => {
      const holder = session.holder();
      const path = await dialogs.pickSavePath(`homopai-run-${req.runId}-predictions.csv`);
      if (path === null) return { path: null, rows: 0 };
      return run((c) => exportPredictions(c, holder, req.runId, path));
    },

    'evaluate.run': async (req) => {
      const holder = session.holder();
      return run((c) => evaluateRun(c, holder, req.runId));
    },

    'bench.run': async (req) => {
      const figures = await session.job(req.jobId, (hooks) => runBench({ patients: req.patients, preset: req.preset }, hooks));
      const [saved] = await run((c) => saveBench(c, [figures]));
      return { ...figures, ...saved! };
    },

    'bench.history': async () => listBench(ws()),

    'audit.list': async (req) =>
      listAudit(ws().db, {
        action: req.action === undefined ? undefined : auditAction(req.action),
        limit: req.limit ?? DEFAULT_AUDIT_LIMIT,
      }),

    'audit.verify': async () => checkAuditLog(ws().dir, ws().db, { mac: ws().rowMacIfLoaded() }),

    'audit.export': async () => {
      const path = await dialogs.pickSavePath(`homopai-audit-${today()}.jsonl`);
      if (path === null) return { path: null, entries: 0 };
      return run((c) => exportAuditLog(c, path));
    },

    'privacy.status': async () => privacyStatus(ws()),

    'reports.generate': async (req) => {
      const keySet = ws().requireKeySet();
      // As in the CLI: the vault holding the key set's secret key holds the report-signing key too.
      const vault = vaultFor(session.workspaceDir, keySet.custody, req.passphrase);
      // The key before the folder: a wrong passphrase is refused before the user is asked where to save.
      const key = await run((c) => signingKey(c, vault));
      const directory = await dialogs.pickDirectory('save-report');
      if (directory === null) return null;
      const formats: readonly ReportFormat[] = req.formats ?? REPORT_FORMATS;
      const options = { outDir: directory, formats, vault, holder: session.holder(), role: session.role ?? 'none' };
      const r = await run((c) => generateReport(c, options));
      lastReport = { manifestPath: r.manifestPath, publicKeyPem: r.manifest.signer.publicKey, fingerprint: r.signingKey.fingerprint };
      return reportInfo(r, directory, key.created);
    },

    'reports.verify': async (req) => {
      let v: VerifyResult;
      if (req.source === 'folder') {
        const directory = await dialogs.pickDirectory('open-report');
        if (directory === null) return null;
        v = await run((c) => verifyWorkstationReport(c, directory));
      } else {
        const last = requireLastReport();
        v = await verifyReport(last.manifestPath, { name: 'the key that signed it', pem: last.publicKeyPem });
      }
      if (!v.ok) return v;
      const m = v.manifest;
      return {
        ok: true,
        report: m.report,
        files: m.files.length,
        signedAt: m.signedAt,
        signer: { user: m.signer.user, role: m.signer.role, fingerprint: m.signer.keyFingerprint },
      };
    },

    'reports.publicKey': async () => {
      const last = requireLastReport();
      const path = await dialogs.pickSavePath(`homopai-report-key-${shortFingerprint(last.fingerprint)}.pem`);
      if (path === null) return { path: null, fingerprint: last.fingerprint };
      return run((c) => exportReportKey(c, { pem: last.publicKeyPem, fingerprint: last.fingerprint }, path));
    },

    'jobs.cancel': async (req) => ({ cancelled: session.cancel(req.jobId) }),
  };
}
