/**
 * The one typed API between the renderer and the main process: channel names, request and response schemas.
 * Shared by the preload (which exposes it), the IPC adapter (which validates every payload against it), the
 * renderer (which calls it) and the e2e test bridge. No Node import: it is bundled into the renderer too.
 *
 * Privacy rule: no response carries a plaintext vital or label. The only per-patient values are decrypted
 * prediction probabilities, returned to the unlocked key holder a page at a time (predictions.page).
 */
import { z } from 'zod';

export const Role = z.enum(['clinician', 'researcher', 'auditor']);
export type Role = z.infer<typeof Role>;
export const Custody = z.enum(['keychain', 'passphrase']);
export const PresetName = z.enum(['standard', 'deep']);
export const Scaling = z.enum(['folded', 'explicit']);
/**
 * Where a prediction's logistic function is applied: 'exact', after decryption, on the encrypted logit (the
 * model's own probability); 'polynomial', on ciphertexts, as an approximation, for outputs that stay encrypted.
 */
export const SigmoidMode = z.enum(['exact', 'polynomial']);
export const SigmoidDegree = z.union([z.literal(3), z.literal(5), z.literal(7)]);
export type SigmoidDegree = z.infer<typeof SigmoidDegree>;

const Passphrase = z.string().min(1).max(1024);

export const PresetInfo = z.object({
  name: PresetName,
  summary: z.string(),
  polyModulusDegree: z.number(),
  coeffModulusBits: z.array(z.number()),
  levels: z.number(),
  securityBits: z.number(),
});

export const KeySetInfo = z.object({
  fingerprint: z.string(),
  shortFingerprint: z.string(),
  preset: z.string(),
  polyModulusDegree: z.number(),
  coeffModulusBits: z.array(z.number()),
  scaleBits: z.number(),
  levels: z.number(),
  securityBits: z.number(),
  custody: z.string(),
  createdAt: z.string(),
  publicKeyBytes: z.number(),
  relinKeyBytes: z.number(),
});
export type KeySetInfo = z.infer<typeof KeySetInfo>;

export const SessionStatus = z.object({
  workspace: z.string(),
  keySet: KeySetInfo.nullable(),
  unlocked: z.boolean(),
  role: Role.nullable(),
  keychainAvailable: z.boolean(),
  keychainProblem: z.string().nullable(),
});

/**
 * What may leave the key holder's process (README, the release rule): k, the fewest patients of every batch in
 * any aggregate; an optional differential-privacy budget; a cap on the distinct models applied to one batch.
 * Each can only be made stricter.
 */
export const ReleasePolicy = z.object({
  minPatients: z.number().int().min(2).max(100_000),
  maxModelsPerBatch: z.number().int().min(1).max(1000),
  dp: z.object({ epsilon: z.number().positive().max(100), budget: z.number().positive().max(10_000) }).nullable(),
});
export type ReleasePolicy = z.infer<typeof ReleasePolicy>;

/** The release rule in force and the privacy ledger: what the auditor checks of what left the key holder's process. */
export const PrivacyStatus = z.object({
  policy: ReleasePolicy,
  /** false when read without the integrity key: the policy is then the activity log's record of it. */
  verified: z.boolean(),
  epsilonSpent: z.number(),
  releases: z.array(z.object({ seq: z.number(), at: z.string(), purpose: z.string(), epsilon: z.number(), patients: z.number().nullable() })),
});
export type PrivacyStatus = z.infer<typeof PrivacyStatus>;

/** range: what every stored value was checked against (recognised vitals), which bounds one patient's influence. */
export const FeatureInfo = z.object({
  name: z.string(),
  unit: z.string(),
  source: z.string().optional(),
  range: z.tuple([z.number(), z.number()]).optional(),
  /** For the import preview: what the column was recognised as, the unit the file holds it in and how that was settled, the conversion. */
  recognisedAs: z.string().optional(),
  sourceUnit: z.object({ id: z.string(), label: z.string(), from: z.enum(['header', 'option', 'values', 'only unit', 'assumed', 'needed']) }).optional(),
  /** The units the quantity can be stated in, when more than one: what the preview's unit picker offers. */
  unitChoices: z.array(z.object({ id: z.string(), label: z.string() })).optional(),
  conversion: z.string().optional(),
});

const ColumnName = z.string().min(1).max(200);

export const ImportOptions = z.object({
  schema: z.enum(['auto', 'vitals', 'generic']).optional(),
  /** The unit of a column whose header does not say it, e.g. { BodyTemp: 'F' }. */
  units: z.record(ColumnName, z.string().min(1).max(20)).optional(),
  /** A range every value of a column taken as given must lie in, e.g. { Age: [15, 70] }. */
  ranges: z.record(ColumnName, z.tuple([z.number(), z.number()])).optional(),
  features: z.array(z.string()).optional(),
  label: z.string().optional(),
  positive: z.string().optional(),
  missing: z.enum(['reject', 'drop']).optional(),
  /** reject: any invalid row rejects the file; skip: the valid rows are imported and the invalid ones reported. */
  invalid: z.enum(['reject', 'skip']).optional(),
  /** With skip: also write the rejected rows themselves (cell values, 0600) beside the file, to fix and re-import. */
  rejectsCsv: z.boolean().optional(),
  /** A patient already stored under the key set: reject (default) the file naming the rows, skip the rows, or allow. */
  duplicates: z.enum(['reject', 'skip', 'allow']).optional(),
  hospital: z.string().max(200).optional(),
});

export const ImportPreview = z.object({
  file: z.string(),
  schema: z.enum(['auto', 'vitals', 'generic']),
  delimiter: z.string(),
  features: z.array(FeatureInfo),
  label: z.object({ source: z.string(), positive: z.string().nullable() }).nullable(),
  hospitalColumn: z.string().nullable(),
  patientColumn: z.string().nullable(),
  notes: z.array(z.string()),
});

/** row: the line in the file (the header is line 1), 0 for the file as a whole; problem: what, message: where and what. */
export const RowIssue = z.object({ file: z.string(), row: z.number(), column: z.string().nullable(), problem: z.string(), message: z.string() });

/** Every row checked as an import would, nothing stored: rows that pass, and the problems of those that would not. */
export const ImportCheck = z.object({
  file: z.string(),
  /** Rows that pass every check (what an import that skips invalid rows would store). */
  rows: z.number(),
  dropped: z.number(),
  invalidRows: z.number(),
  issues: z.array(RowIssue).max(50),
  totalIssues: z.number(),
});
export type ImportCheck = z.infer<typeof ImportCheck>;

export const ImportResult = z.object({
  batchId: z.number(),
  file: z.string(),
  rows: z.number(),
  dropped: z.number(),
  labeledRows: z.number(),
  blocks: z.number(),
  hospitals: z.array(z.string()),
  features: z.array(FeatureInfo),
  notes: z.array(z.string()),
  /** Seeded symmetric (the key holder imports) or public-key (everyone else). */
  encryption: z.enum(['seeded-symmetric', 'public-key']),
  encryptMs: z.number(),
  /** Invalid rows skipped (invalid: 'skip'): how many, the first problems, and the report written beside the file. */
  rejected: z.object({ rows: z.number(), issues: z.array(RowIssue), report: z.string().nullable(), rejectsCsv: z.string().nullable() }),
  /** Rows of patients already stored under the key set, left out (duplicates: 'skip'). */
  duplicatesSkipped: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

/** An import either lands whole or is rejected with its row-level issues; nothing is stored then. */
export const ImportOutcome = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: ImportResult }),
  z.object({ ok: z.literal(false), file: z.string(), issues: z.array(RowIssue), totalIssues: z.number() }),
]);

/** A hospital's signed encrypted bundle, stored without decrypting anything. */
export const BundleImportResult = z.object({
  batchId: z.number(),
  bundleId: z.string(),
  file: z.string(),
  hospital: z.string(),
  /** Short fingerprint of the hospital's signing key, to compare with what the hospital reads out. */
  hospitalKey: z.string(),
  newHospital: z.boolean(),
  replacedKey: z.string().nullable(),
  rows: z.number(),
  labeledRows: z.number(),
  blocks: z.number(),
  features: z.array(FeatureInfo),
  createdAt: z.string(),
});
export type BundleImportResult = z.infer<typeof BundleImportResult>;

export const BundleRefusal = z.enum([
  'not-a-bundle',
  'version',
  'truncated',
  'malformed',
  'key-set',
  'hospital-key-changed',
  'signature',
  'replay',
  'ciphertext',
  'duplicates',
]);

/**
 * A bundle lands whole or is refused, storing nothing. A refusal for a changed hospital key names the key the
 * bundle is signed with, so the key holder can confirm it with the hospital and accept it (acceptKey).
 */
export const BundleOutcome = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: BundleImportResult }),
  z.object({ ok: z.literal(false), file: z.string(), reason: BundleRefusal, message: z.string(), offeredKey: z.string().nullable() }),
]);

export const BatchInfo = z.object({
  id: z.number(),
  origin: z.string(),
  sourceName: z.string(),
  sourceSha256: z.string(),
  rows: z.number(),
  dropped: z.number(),
  labeledRows: z.number(),
  features: z.array(FeatureInfo),
  keyFingerprint: z.string(),
  createdAt: z.string(),
  ciphertexts: z.number(),
  ciphertextBytes: z.number(),
  level: z.number(),
  integrity: z.enum(['ok', 'damaged']),
});

export const PatientMeta = z.object({
  batchId: z.number(),
  block: z.number(),
  slot: z.number(),
  hospital: z.string(),
  patientId: z.string(),
  labeled: z.boolean(),
});

export const Overview = z.object({
  hospitals: z.array(z.object({ name: z.string(), patients: z.number(), batches: z.number() })),
  batches: z.array(BatchInfo),
});

export const ModelInfo = z.object({
  id: z.string(),
  name: z.string().nullable(),
  /** Who trained it, as the activity log records it: "actor (role)". */
  trainedBy: z.string().nullable(),
  createdAt: z.string(),
  features: z.array(FeatureInfo),
  weights: z.array(z.number()),
  bias: z.number(),
  sigmoid: z.object({ degree: z.number(), interval: z.number(), coefficients: z.array(z.number()), maxError: z.number() }),
  training: z.object({ method: z.string(), rows: z.number(), positives: z.number(), source: z.string().optional() }),
});

/** null where undefined: AUC and ROC rates when the evaluated labels hold a single class. */
const Rate = z.number().nullable();

export const Metrics = z.object({
  accuracy: z.number(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  auc: Rate,
  brier: Rate,
  confusion: z.object({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() }),
});

export const TrainRequest = z.object({
  path: z.string().min(1),
  options: ImportOptions.optional(),
  sigmoidDegree: SigmoidDegree.optional(),
  testFraction: z.number().min(0).max(0.9).optional(),
  seed: z.number().int().optional(),
});

/** Training report: the model plus an encrypted-vs-plaintext check on a held-out split of the training file. */
export const TrainResult = z.object({
  model: ModelInfo,
  check: z.object({
    nTrain: z.number(),
    nTest: z.number(),
    metrics: Metrics,
    plaintextMetrics: Metrics,
    /** Against the plaintext model with the exact logistic function, on the held-out rows. */
    fidelity: z.object({ sigmoid: SigmoidMode, maxAbsProbError: z.number(), labelAgreement: z.number() }),
  }),
});

export const PredictRequest = z.object({
  modelId: z.string(),
  batchIds: z.array(z.number().int()).min(1),
  scaling: Scaling.optional(),
  sigmoid: SigmoidMode.optional(),
});

/** A name people gave a model or a run: a label shown beside the id, which stays what everything refers to. */
const Name = z.string().nullable();

export const RunInfo = z.object({
  id: z.number(),
  name: Name,
  modelId: z.string(),
  scaling: z.string(),
  sigmoid: SigmoidMode,
  batchIds: z.array(z.number()),
  patients: z.number(),
  createdAt: z.string(),
});

export const PatientPrediction = z.object({
  batchId: z.number(),
  hospital: z.string(),
  patientId: z.string(),
  probability: z.number(),
  atRisk: z.boolean(),
});
export type PatientPrediction = z.infer<typeof PatientPrediction>;

/** A run decrypted and held in the key holder's process: counts only; its rows are read a page at a time. */
export const HeldRun = z.object({ runId: z.number(), patients: z.number(), atRisk: z.number() });
export type HeldRun = z.infer<typeof HeldRun>;

/** Rows of one page: enough for a screen, small enough that no response carries a run. */
export const MAX_PAGE_ROWS = 500;

export const ResultQuery = z.object({
  runId: z.number().int(),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1).max(MAX_PAGE_ROWS),
  sort: z.object({ key: z.enum(['hospital', 'patientId', 'probability', 'atRisk']), direction: z.enum(['asc', 'desc']) }),
  filter: z.object({ text: z.string().max(200), atRiskOnly: z.boolean() }),
});
export type ResultQuery = z.infer<typeof ResultQuery>;

export const ResultPage = z.object({
  runId: z.number(),
  /** Rows the filter keeps, over all pages. */
  matching: z.number(),
  offset: z.number(),
  rows: z.array(PatientPrediction).max(MAX_PAGE_ROWS),
});
export type ResultPage = z.infer<typeof ResultPage>;

/** A bin of predicted probabilities, [lo, hi) ([lo, 1] at the top); its edges are grid values, never a score. */
const Bin = z.object({ lo: z.number(), hi: z.number() });

/** threshold null: above every score (the curve's start). */
export const RocPoint = z.object({ fpr: Rate, tpr: Rate, threshold: z.number().nullable() });

/**
 * A run's evaluation, aggregates only: every bin holds at least k patients of every batch (or, with differential
 * privacy on, fixed bins with noisy counts), and no per-patient score appears anywhere in it.
 */
export const Evaluation = z.object({
  runId: z.number(),
  labeled: z.number(),
  metrics: Metrics,
  roc: z.array(RocPoint),
  /** Every patient's predicted probability. */
  histogram: z.array(Bin.extend({ patients: z.number() })),
  /** The labeled patients' probabilities, split by their actual class. */
  byClass: z.array(Bin.extend({ positives: z.number(), negatives: z.number() })),
  /** Reliability: per bin, the mean predicted probability and the observed at-risk rate. */
  calibration: z.array(Bin.extend({ patients: z.number(), predicted: z.number(), observed: z.number() })),
  /** The release rule it was computed under. */
  release: z.object({ minPatients: z.number(), epsilon: z.number().nullable() }),
  /** The run's batches the model was trained on (the same file, or pooled in its training): figures on them are not held out. */
  trainedOn: z.array(z.number()),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const BenchResult = z.object({
  id: z.number(),
  createdAt: z.string(),
  preset: z.string(),
  patients: z.number(),
  workers: z.number(),
  keygenMs: z.number(),
  encryptUsPerValue: z.number(),
  importMs: z.number(),
  predictPatientsPerS: z.number(),
  evalPatientsPerS: z.number(),
  decryptMs: z.number(),
  ciphertextBytes: z.number(),
  publicKeyBytes: z.number(),
  relinKeyBytes: z.number(),
  bytesPerPatient: z.number(),
  heToPlainRatio: z.number(),
  wasmHeapBytesBefore: z.number(),
  wasmHeapBytesAfter: z.number(),
  peakRssBytes: z.number(),
  scaling: z.string(),
  // Added with the worker pool; optional so earlier runs in a workspace's history still read.
  encryption: z.string().optional(),
  encryptUsPerValue1Worker: z.number().optional(),
  evalPatientsPerS1Worker: z.number().optional(),
  bytesPerPatientWithLabel: z.number().optional(),
  /** Added with exact mode (evalPatientsPerS is then the exact mode's): polynomial-mode evaluation. */
  evalPolyPatientsPerS: z.number().optional(),
});

export const AuditEntry = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  role: z.string(),
  action: z.string(),
  detail: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

/**
 * The chain from genesis and the signed anchor of its head (count and hash, kept outside the database): a log
 * edited, cut short or rewritten at its end does not verify. `unanchored`: entries written after the anchor by
 * someone without the integrity key (an auditor's export).
 */
export const AuditVerification = z.union([
  z.object({
    ok: z.literal(true),
    entries: z.number(),
    head: z.string(),
    anchor: z.object({ entries: z.number(), at: z.string(), keyFingerprint: z.string() }).nullable(),
    unanchored: z.number(),
  }),
  z.object({ ok: z.literal(false), entries: z.number(), brokenAt: z.number(), reason: z.string() }),
]);
export type AuditVerification = z.infer<typeof AuditVerification>;

/** The report formats the app offers; handlers.ts checks at compile time that generate.ts writes each of them. */
export const ReportFormat = z.enum(['pdf', 'html', 'json']);
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const Count = z.number().int().nonnegative();

/**
 * A signed report as written: its files (the manifest and its signature beside them), who signed, and the
 * key facts it states, so the screen can show what was filed without opening it.
 */
export const GeneratedReport = z.object({
  name: z.string(),
  directory: z.string(),
  /** What the manifest vouches for, each with its size and SHA-256. */
  files: z.array(z.object({ name: z.string(), bytes: Count, sha256: Hex64 })).min(1),
  manifest: z.string(),
  signature: z.string(),
  manifestSha256: Hex64,
  /** SHA-256 of the report-signing public key: what an auditor compares with the key they were given. */
  signer: Hex64,
  /** The workstation had no signing key before this report: the verification key is new. */
  newSigningKey: z.boolean(),
  signedAt: z.string(),
  generatedBy: z.object({ user: z.string(), role: z.string() }),
  keySet: z.object({ fingerprint: Hex64, preset: z.string(), polyModulusDegree: Count, securityBits: Count }),
  totals: z.object({ hospitals: Count, batches: Count, patients: Count, labeled: Count }),
  model: z.object({ id: z.string(), features: z.array(z.string()), sigmoidDegree: Count }).nullable(),
  evaluation: z.discriminatedUnion('evaluated', [
    /** modelId: the model the run used, which need not be the latest one the report's model card shows. */
    z.object({ evaluated: z.literal(true), runId: Count, modelId: z.string(), labeled: Count, metrics: Metrics }),
    z.object({ evaluated: z.literal(false), reason: z.string() }),
  ]),
  audit: z.object({ entries: Count, chainOk: z.boolean(), head: Hex64.nullable() }),
});

export const ReportVerification = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    report: z.string(),
    files: Count,
    signedAt: z.string(),
    signer: z.object({ user: z.string(), role: z.string(), fingerprint: Hex64 }),
  }),
  z.object({ ok: z.literal(false), file: z.string(), problem: z.string() }),
]);

/** One epoch of encrypted training: what the key holder learned (aggregates only) and what it cost. */
export const EpochReport = z.object({
  epoch: z.number(),
  epochs: z.number(),
  gradientNorm: z.number(),
  evaluateMs: z.number(),
  refreshMs: z.number(),
  training: z.object({ logLoss: z.number(), accuracy: z.number(), auc: Rate }).nullable(),
  metricsMs: z.number(),
});
export type EpochReport = z.infer<typeof EpochReport>;

export const EncryptedTrainRequest = z.object({
  batchIds: z.array(z.number().int()).min(1),
  epochs: z.number().int().min(1).max(200),
  lr: z.number().positive().max(100),
  l2: z.number().min(0).max(10).optional(),
  nesterov: z.boolean().optional(),
});

export const EncryptedTrainResult = z.object({
  model: ModelInfo,
  epochs: z.array(EpochReport),
  prepareMs: z.number(),
  cohort: z.object({ patients: z.number(), labeledPatients: z.number(), hospitals: z.array(z.string()) }),
  /** The encrypted cohort statistics the scaler was built from: aggregates over every patient of the cohort. */
  scaler: z.array(z.object({ name: z.string(), unit: z.string(), mean: z.number(), std: z.number() })),
});

export const Progress = z.object({
  jobId: z.string(),
  phase: z.string(),
  done: z.number(),
  total: z.number().nullable(),
  /** Set on each epoch of encrypted training, for the live chart. */
  epoch: EpochReport.optional(),
});
export type Progress = z.infer<typeof Progress>;

const Job = z.object({ jobId: z.string().min(1).max(64) });

/**
 * Every invocable channel: request schema and response schema. Long-running calls take a jobId chosen by the
 * renderer; progress for it arrives on the `progress` event and `jobs.cancel` stops it.
 */
export const Api = {
  'session.status': { req: z.object({}), res: SessionStatus },
  'presets.list': { req: z.object({}), res: z.array(PresetInfo) },
  /**
   * Creates the key set as its key holder (the researcher). clinicianPassphrase (passphrase custody) seals the
   * clinicians' credential, the integrity key alone; with keychain custody it goes into the keychain.
   */
  'keys.create': {
    req: z.object({ preset: PresetName, custody: Custody, passphrase: Passphrase.optional(), clinicianPassphrase: Passphrase.optional() }),
    res: SessionStatus,
  },
  /**
   * Unlocks what the role holds: the researcher the secret key (its passphrase), the clinician the integrity key
   * (the clinicians' passphrase), the auditor nothing (no passphrase).
   */
  'keys.unlock': { req: z.object({ custody: Custody, passphrase: Passphrase.optional(), role: Role }), res: SessionStatus },
  'keys.lock': { req: z.object({}), res: SessionStatus },
  /** Every key set the workspace has held, newest first: active, being rotated to, or retired. */
  'keys.list': { req: z.object({}), res: z.array(KeySetInfo.extend({ state: z.enum(['active', 'rotating', 'retired']) })) },
  /**
   * Re-encrypts every batch and prediction under a new key set (resumable: a cancelled rotation continues where
   * it stopped), then archives or destroys the old secret key. passphrase: the vault's, for passphrase custody.
   */
  'keys.rotate': {
    req: Job.extend({ old: z.enum(['archive', 'destroy']), passphrase: Passphrase.optional() }),
    res: z.object({
      from: KeySetInfo,
      to: KeySetInfo,
      resumed: z.boolean(),
      ciphertexts: z.number(),
      predictionBlocks: z.number(),
      old: z.enum(['archive', 'destroy']),
      clinicians: z.boolean(),
    }),
  },
  /** Opens the OS file dialog in main; returns the chosen path or null. Paths, never file contents, cross IPC. */
  'files.pickCsv': { req: z.object({}), res: z.string().nullable() },
  'files.pickBundle': { req: z.object({}), res: z.string().nullable() },
  'import.preview': { req: z.object({ path: z.string().min(1), options: ImportOptions.optional() }), res: ImportPreview },
  'import.check': { req: Job.extend({ path: z.string().min(1), options: ImportOptions.optional() }), res: ImportCheck },
  'import.run': { req: Job.extend({ path: z.string().min(1), options: ImportOptions.optional() }), res: ImportOutcome },
  /** acceptKey: a hospital's new signing key (short fingerprint), confirmed with the hospital out of band. */
  'import.bundle': {
    req: Job.extend({ path: z.string().min(1), acceptKey: z.string().max(100).optional(), duplicates: z.enum(['reject', 'allow']).optional() }),
    res: BundleOutcome,
  },
  'patients.overview': { req: z.object({}), res: Overview },
  'patients.list': {
    req: z.object({ batchId: z.number().int(), offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }),
    res: z.object({ total: z.number(), patients: z.array(PatientMeta) }),
  },
  'models.list': { req: z.object({}), res: z.array(ModelInfo) },
  'names.set': { req: z.object({ what: z.enum(['model', 'run']), id: z.string().min(1).max(64), name: z.string().max(200) }), res: z.object({ name: z.string() }) },
  'models.train': { req: Job.extend(TrainRequest.shape), res: TrainResult },
  /** Trains on the stored ciphertexts of labeled batches; each epoch arrives as a progress event. */
  'models.trainEncrypted': { req: Job.extend(EncryptedTrainRequest.shape), res: EncryptedTrainResult },
  'predict.run': { req: Job.extend(PredictRequest.shape), res: RunInfo },
  'predict.runs': { req: z.object({}), res: z.array(RunInfo) },
  'predictions.decrypt': { req: z.object({ runId: z.number().int() }), res: HeldRun },
  'predictions.page': { req: ResultQuery, res: ResultPage },
  'predictions.exportCsv': { req: z.object({ runId: z.number().int() }), res: z.object({ path: z.string().nullable(), rows: z.number() }) },
  'evaluate.run': { req: z.object({ runId: z.number().int() }), res: Evaluation },
  'bench.run': { req: Job.extend({ patients: z.number().int().min(1).max(1_000_000), preset: PresetName.optional() }), res: BenchResult },
  'bench.history': { req: z.object({}), res: z.array(BenchResult) },
  'audit.list': { req: z.object({ action: z.string().optional(), limit: z.number().int().min(1).max(5000).optional() }), res: z.array(AuditEntry) },
  'audit.verify': { req: z.object({}), res: AuditVerification },
  'audit.export': { req: z.object({}), res: z.object({ path: z.string().nullable(), entries: z.number() }) },
  'privacy.status': { req: z.object({}), res: PrivacyStatus },
  /**
   * Asks for a folder and writes a signed report into it; null when the dialog is cancelled. The passphrase
   * (passphrase custody) opens the vault that holds the report-signing key.
   */
  'reports.generate': {
    req: z.object({ passphrase: Passphrase.optional(), formats: z.array(ReportFormat).min(1).max(3).optional() }),
    res: GeneratedReport.nullable(),
  },
  /**
   * Re-reads the report generated last from disk and checks it against the key that signed it, not only against
   * the key its manifest carries.
   */
  /**
   * Verifies the report this session generated ('last'), or one from a folder the user picks ('folder', null
   * when the dialog is cancelled) against the report keys this workspace's activity log recorded.
   */
  'reports.verify': { req: z.object({ source: z.enum(['last', 'folder']).default('last') }), res: ReportVerification.nullable() },
  /** Saves the public key that verifies this workstation's reports (PEM) where the user chooses. */
  'reports.publicKey': { req: z.object({}), res: z.object({ path: z.string().nullable(), fingerprint: Hex64 }) },
  'jobs.cancel': { req: Job, res: z.object({ cancelled: z.boolean() }) },
} as const;

export type Channel = keyof typeof Api;
export type Req<C extends Channel> = z.input<(typeof Api)[C]['req']>;
export type Res<C extends Channel> = z.infer<(typeof Api)[C]['res']>;

/** Errors cross the boundary as data, so the renderer can show a banner with the next step. */
export const ApiError = z.object({ name: z.string(), message: z.string() });
export type ApiError = z.infer<typeof ApiError>;
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** What the preload exposes as `window.homopai`, and what the e2e bridge provides over HTTP. */
export interface HomopaiApi {
  invoke<C extends Channel>(channel: C, req: Req<C>): Promise<Envelope<Res<C>>>;
  onProgress(listener: (p: Progress) => void): () => void;
}

export const IPC_INVOKE = 'homopai:invoke';
export const IPC_PROGRESS = 'homopai:progress';
