import { basename } from 'node:path';
import type { z } from 'zod';
import type { Api, Channel, Res } from '../../src-preload/contract.ts';
import { AUDIT_ACTIONS, type AuditAction, type AuditDetailValue, appendAudit, exportAuditJsonl, listAudit, verifyAudit } from '../audit/log.ts';
import { shortFingerprint } from '../ckks/keys.ts';
import { PRESETS, presetLevels } from '../ckks/presets.ts';
import { CsvValidationError, planColumns } from '../ingest/index.ts';
import type { Metrics } from '../ml/metrics.ts';
import type { Model } from '../ml/model.ts';
import { BundleError } from '../federation/errors.ts';
import { importBundle } from '../services/bundle-import.ts';
import { listBench, runBench, saveBench } from '../services/bench.ts';
import { runExperiment } from '../services/experiment.ts';
import { trainEncrypted } from '../services/train-encrypted.ts';
import { importCsv } from '../services/import.ts';
import { createKeySet, KeyHolder, keySetInfo } from '../services/keys.ts';
import { predictBatches } from '../services/predict.ts';
import type { PolicyOptions } from '../services/policy.ts';
import { decryptRun, evaluateRun } from '../services/results.ts';
import type { AuditSink } from '../services/stats.ts';
import { listModels, loadModel, saveModel } from '../services/train.ts';
import { countPatients, getBatch, hospitalSummary, listBatches, patientsOfBatch } from '../store/batches.ts';
import { batchStorage } from '../store/ciphertexts.ts';
import { activeKeySet } from '../store/keysets.ts';
import { getRun, listRuns, type PredictionRun } from '../store/predictions.ts';
import { vaultFor } from '../vault/select.ts';
import { writeFileAtomic } from '../common/files.ts';
import { predictionsCsv } from '../reports/csv-export.ts';
import { type GeneratedReport, generateReport, REPORT_FORMATS, type ReportFormat, reportAuditDetail } from '../services/report.ts';
import { SIGNATURE_SUFFIX, verifyReport } from '../reports/manifest.ts';
import { NOT_EVALUATED_REASONS } from '../reports/report-schema.ts';
import { openSigningKey } from '../reports/signing.ts';
import { damagedBatches } from './integrity.ts';
import { mayUse } from './roles.ts';
import type { Session } from './session.ts';

/** What a handler receives: the request after its schema has parsed it (defaults applied, unknown keys dropped). */
type Parsed<C extends Channel> = z.output<(typeof Api)[C]['req']>;
export type Handlers = { [C in Channel]: (req: Parsed<C>) => Promise<Res<C>> };

export interface Dialogs {
  pickCsv(): Promise<string | null>;
  pickBundle(): Promise<string | null>;
  pickSavePath(defaultName: string): Promise<string | null>;
  pickDirectory(): Promise<string | null>;
}

function modelInfo(m: Model): Res<'models.list'>[number] {
  return {
    id: m.id,
    createdAt: m.createdAt,
    features: m.features,
    weights: m.weights,
    bias: m.bias,
    sigmoid: m.sigmoid,
    training: { method: m.training.method, rows: m.training.rows, positives: m.training.positives, source: m.training.source },
  };
}

function runInfo(r: PredictionRun): Res<'predict.run'> {
  return { id: r.id, modelId: r.modelId, scaling: r.scaling, batchIds: r.batchIds, patients: r.patients, createdAt: r.createdAt };
}

/** AUC and ROC rates are undefined (NaN) when the labels hold one class; NaN crosses neither JSON nor zod. */
function defined(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

function metrics(m: Metrics): Res<'evaluate.run'>['metrics'] {
  return { accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1, auc: defined(m.auc), confusion: { ...m.confusion } };
}

/*
 * The ROC curve starts at threshold +Infinity (nothing predicted positive), which neither JSON nor the
 * contract's number can carry. Probabilities are clamped to [0, 1], so 1 + epsilon is above every score too.
 */
function finiteThreshold(t: number): number {
  return Number.isFinite(t) ? t : 1 + Number.EPSILON;
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
        ? { evaluated: true, runId: e.run.id, labeled: e.labeled, metrics: e.metrics }
        : { evaluated: false, reason: NOT_EVALUATED_REASONS[e.reason] },
    audit: { entries: chain.entries, chainOk: chain.ok, head: chain.ok ? chain.head : null },
  };
}

export function createHandlers(session: Session, dialogs: Dialogs): Handlers {
  const ws = () => session.workspace();
  // The decryption policy records each decryption and refusal itself, in the session's queue of writes and under
  // its role, so no handler writes its own 'decrypt' entry.
  const policy: PolicyOptions = { audit: (action, detail) => session.audit(action, detail) };
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
      const { info } = await session.write(async () => {
        // A second key set would silently orphan every batch encrypted under the first.
        const existing = activeKeySet(ws().db);
        if (existing) {
          throw new Error(`this workspace already has key set ${shortFingerprint(existing.fingerprint)}: unlock it instead`);
        }
        return createKeySet(ws(), req.preset, vault);
      });
      session.begin(await KeyHolder.unlock(ws(), vault), req.role);
      await session.audit('keygen', { keySet: info.shortFingerprint, preset: info.preset, custody: info.custody });
      return status();
    },

    'keys.unlock': async (req) => {
      const holder = await KeyHolder.unlock(ws(), vaultFor(session.workspaceDir, req.custody, req.passphrase));
      session.begin(holder, req.role);
      await session.audit('unlock', { keySet: shortFingerprint(holder.fingerprint), custody: req.custody });
      return status();
    },

    'keys.lock': async () => {
      await session.lock('user');
      return status();
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
      const plan = await planColumns(session.requirePicked(req.path), req.options ?? {});
      return {
        file: basename(req.path),
        schema: plan.schema,
        delimiter: plan.delimiter,
        features: plan.features.map((f) => ({ name: f.name, unit: f.unit, source: f.source })),
        label: plan.label,
        hospitalColumn: plan.hospitalColumn,
        patientColumn: plan.patientColumn,
        notes: plan.notes,
      };
    },

    'import.run': async (req) => {
      const path = session.requirePicked(req.path);
      try {
        const result = await session.job(req.jobId, (hooks) => session.write(() => importCsv(ws(), path, req.options ?? {}, hooks, { holder: session.holder() })));
        await session.audit('import', {
          batchId: result.batchId,
          rows: result.rows,
          dropped: result.dropped,
          labeledRows: result.labeledRows,
          hospitals: result.hospitals.length,
        });
        return { ok: true, result };
      } catch (e) {
        if (!(e instanceof CsvValidationError)) throw e;
        await session.audit('import-rejected', { file: e.file.slice(0, 200), issues: e.totalIssues });
        return { ok: false, file: e.file, issues: e.issues, totalIssues: e.totalIssues };
      }
    },

    'import.bundle': async (req) => {
      const path = session.requirePicked(req.path);
      try {
        const role = session.role ?? 'none';
        // Recorded inside the import's transaction, which runs in the session's queue of writes.
        const audit = (action: AuditAction, detail: Record<string, AuditDetailValue>): void => void appendAudit(ws().db, { role, action, detail });
        const result = await session.job(req.jobId, (hooks) => session.write(() => importBundle(ws(), path, { acceptKey: req.acceptKey, audit }, hooks)));
        return { ok: true, result };
      } catch (e) {
        if (!(e instanceof BundleError)) throw e;
        await session.audit('import-rejected', { file: basename(path), reason: e.code });
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

    'models.list': async () => listModels(ws()).map(modelInfo),

    'models.train': async (req) => {
      const path = session.requirePicked(req.path);
      // The held-out check runs under the workspace's own parameters, so it predicts what prediction will do.
      const preset = activeKeySet(ws().db)?.preset;
      const { report, model } = await session.job(req.jobId, (hooks) =>
        runExperiment(
          path,
          { ingest: req.options ?? {}, testFraction: req.testFraction ?? 0.3, seed: req.seed, sigmoidDegree: req.sigmoidDegree, preset },
          hooks,
        ),
      );
      await session.write(() => saveModel(ws(), model));
      await session.audit('train', { modelId: model.id, nTrain: report.n_train, nTest: report.n_test, features: model.features.length });
      return {
        model: modelInfo(model),
        check: {
          nTrain: report.n_train,
          nTest: report.n_test,
          metrics: metrics(report.metrics),
          plaintextMetrics: metrics(report.plaintext_metrics),
          fidelity: { maxAbsProbError: report.fidelity.max_abs_prob_error, labelAgreement: report.fidelity.label_agreement },
        },
      };
    },

    'models.trainEncrypted': async (req) => {
      const holder = session.holder();
      const role = session.role ?? 'researcher';
      const options = { epochs: req.epochs, lr: req.lr, l2: req.l2, nesterov: req.nesterov };
      // Inside the session's write queue: the refreshes are recorded straight into the log, in order.
      const audit: AuditSink = (action, detail) => appendAudit(ws().db, { role, action, detail });
      const r = await session.job(req.jobId, (hooks) => session.write(() => trainEncrypted(ws(), holder, req.batchIds, options, { audit }, hooks)));
      await session.write(() => saveModel(ws(), r.model));
      await session.audit('train', {
        modelId: r.model.id,
        method: r.model.training.method,
        batches: r.stats.batchIds,
        patients: r.stats.labeledPatients,
        epochs: req.epochs,
      });
      return {
        model: modelInfo(r.model),
        epochs: r.epochs,
        prepareMs: r.prepareMs,
        cohort: { patients: r.stats.patients, labeledPatients: r.stats.labeledPatients, hospitals: r.stats.hospitals },
        scaler: r.model.features.map((f, j) => ({ name: f.name, unit: f.unit, mean: r.model.scaler.mean[j]!, std: r.model.scaler.std[j]! })),
      };
    },

    'predict.run': async (req) => {
      const model = loadModel(ws(), req.modelId);
      const scaling = req.scaling ?? 'folded';
      const r = await session.job(req.jobId, (hooks) => session.write(() => predictBatches(ws(), model, req.batchIds, scaling, hooks)));
      await session.audit('predict', { runId: r.runId, modelId: model.id, batches: req.batchIds.length, patients: r.patients, scaling });
      return runInfo(getRun(ws().db, r.runId)!);
    },

    'predict.runs': async () => listRuns(ws().db).map(runInfo),

    'predictions.decrypt': async (req) => decryptRun(ws(), session.holder(), req.runId, policy),

    'predictions.exportCsv': async (req) => {
      const holder = session.holder();
      const path = await dialogs.pickSavePath(`homopai-run-${req.runId}-predictions.csv`);
      if (path === null) return { path: null, rows: 0 };
      const rows = await decryptRun(ws(), holder, req.runId, policy);
      await writeFileAtomic(path, predictionsCsv(rows));
      await session.audit('export', { what: 'predictions', runId: req.runId, rows: rows.length });
      return { path, rows: rows.length };
    },

    'evaluate.run': async (req) => {
      const e = await evaluateRun(ws(), session.holder(), req.runId, policy);
      await session.audit('evaluate', { runId: req.runId, labeled: e.labeled });
      return {
        runId: e.runId,
        labeled: e.labeled,
        metrics: metrics(e.metrics),
        roc: e.roc.map((p) => ({ fpr: defined(p.fpr), tpr: defined(p.tpr), threshold: finiteThreshold(p.threshold) })),
        histogram: e.histogram,
      };
    },

    'bench.run': async (req) => {
      const figures = await session.job(req.jobId, (hooks) => runBench({ patients: req.patients, preset: req.preset }, hooks));
      const saved = await session.write(() => saveBench(ws(), figures));
      await session.audit('bench', { benchId: saved.id, patients: figures.patients, preset: figures.preset });
      return { ...figures, ...saved };
    },

    'bench.history': async () => listBench(ws()),

    'audit.list': async (req) =>
      listAudit(ws().db, {
        action: req.action === undefined ? undefined : auditAction(req.action),
        limit: req.limit ?? DEFAULT_AUDIT_LIMIT,
      }),

    'audit.verify': async () => verifyAudit(ws().db),

    'audit.export': async () => {
      const path = await dialogs.pickSavePath(`homopai-audit-${today()}.jsonl`);
      if (path === null) return { path: null, entries: 0 };
      const entries = await exportAuditJsonl(ws().db, path);
      await session.audit('export', { what: 'audit', entries });
      return { path, entries };
    },

    'reports.generate': async (req) => {
      const keySet = ws().requireKeySet();
      // As in the CLI: the vault holding the key set's secret key holds the report-signing key too.
      const vault = vaultFor(session.workspaceDir, keySet.custody, req.passphrase);
      // The key before the folder: a wrong passphrase is refused before the user is asked where to save.
      const key = await openSigningKey(vault, keySet.fingerprint);
      if (key.created) await session.audit('keygen', { key: 'report-signing', fingerprint: key.fingerprint });
      const directory = await dialogs.pickDirectory();
      if (directory === null) return null;
      // Evaluation decrypts labels: only for a role evaluate.run allows, and recorded by the session's policy.
      const mayDecrypt = mayUse('evaluate.run', session.role);
      const formats: readonly ReportFormat[] = req.formats ?? REPORT_FORMATS;
      const r = await generateReport(ws(), {
        outDir: directory,
        formats,
        vault,
        holder: mayDecrypt ? session.holder() : null,
        mayDecrypt,
        policy,
        role: session.role ?? 'none',
      });
      await session.audit('report', reportAuditDetail(r, formats));
      lastReport = { manifestPath: r.manifestPath, publicKeyPem: r.manifest.signer.publicKey, fingerprint: r.signingKey.fingerprint };
      return reportInfo(r, directory, key.created);
    },

    'reports.verify': async () => {
      const last = requireLastReport();
      const v = await verifyReport(last.manifestPath, { name: 'the key that signed it', pem: last.publicKeyPem });
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
      await writeFileAtomic(path, last.publicKeyPem);
      await session.audit('export', { what: 'report-signing-key', fingerprint: last.fingerprint });
      return { path, fingerprint: last.fingerprint };
    },

    'jobs.cancel': async (req) => ({ cancelled: session.cancel(req.jobId) }),
  };
}
