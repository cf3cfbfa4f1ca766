/*
 * What each entry of the activity log says, one shape per action: ids, counts, outcomes and the rule that
 * applied, never a value from a record. Every use case records through an AuditPort typed by this table, so
 * the app and the CLI write the same fields under the same names (camelCase, ids as `...Id`).
 */

type Ids = number[];

/** The release rule's side of a decryption entry: what was asked for, and the k it was checked against. */
export interface DecryptDetail {
  purpose: string;
  what?: string;
  runId?: number;
  batchIds?: Ids;
  epoch?: number;
  /** Patients the request covers (labeled ones for label aggregates). */
  patients?: number;
  /** k in force: the workspace's, or higher when a command raised it (absent on a refusal by role). */
  minPatients?: number;
  /** The differential-privacy budget this release spent (the privacy ledger sums it). */
  epsilon?: number;
  ciphertexts?: number;
  completed?: boolean;
  reason?: string;
  requested?: number;
  found?: number;
  ciphertextIds?: Ids;
  channel?: string;
}

export interface AuditDetails {
  keygen:
    | { key: 'key-set'; keySet: string; preset: string; custody: string }
    | { key: 'report-signing'; fingerprint: string }
    | { key: 'clinician-credential'; keySet: string; custody: string }
    | { key: 'galois'; keySet: string; steps: Ids; ms: number };
  /** holds: what the unlocking credential gives (its role follows from it). */
  unlock: { keySet: string; custody: string | null; holds: 'secret-key' | 'integrity-key' | 'nothing' };
  lock: { reason: 'user' | 'idle'; jobsCancelled: number };
  import: {
    batchId: number;
    origin: 'csv' | 'bundle';
    file: string;
    rows: number;
    dropped: number;
    labeledRows: number;
    hospitals: number;
    bundleId?: string;
    hospital?: string;
    /** Invalid rows skipped and reported (--invalid skip). */
    skipped?: number;
    /** Rows of patients already stored, left out (--duplicates skip). */
    duplicates?: number;
  };
  'import-rejected': { file: string; issues?: number; reason?: string };
  'hospital-key': { hospital: string; from: string; to: string; bundleId: string };
  train: { modelId: string; method: string; rows: number; features: number; batchIds?: Ids; epochs?: number; testRows?: number };
  predict: { runId: number; modelId: string; batchIds: Ids; patients: number; scaling: string; sigmoid: 'exact' | 'polynomial' };
  /** A prediction that stored nothing: refused before it started, cancelled, or failed midway (rolled back). */
  'predict-failed': { modelId: string | null; batchIds: Ids; reason: string };
  /** A name given to a model or a run (a label; the id stays what everything refers to). */
  name: { what: 'model' | 'run'; id: string; name: string };
  decrypt: DecryptDetail;
  'decrypt-refused': DecryptDetail;
  evaluate: { runId: number; labeled: number };
  export:
    | { what: 'predictions'; runId: number; rows: number }
    | { what: 'audit-log'; entries: number }
    | { what: 'kit'; keySet: string }
    | { what: 'report-signing-key'; fingerprint: string }
    | { what: 'key-backup'; keySet: string };
  /** A secret key put back from its backup, into the vault of the workspace's custody. */
  'key-restore': { keySet: string; custody: string };
  bench: { benchIds: Ids; patients: Ids; preset: string };
  /** A key rotation: its start, commit (what was re-encrypted), the old key's fate, or its abandonment. */
  rotate:
    | { phase: 'start' | 'abort'; from: string; to: string }
    | { phase: 'commit'; from: string; to: string; ciphertexts: number; predictionBlocks: number; old: 'archive' | 'destroy' }
    | { phase: 'old-key'; from: string; to: string; old: 'archive' | 'destroy' };
  policy: { minPatients: number; maxModelsPerBatch: number; epsilon: number | null; budget: number | null; previousMinPatients: number };
  report: {
    name: string;
    formats: string[];
    manifestSha256: string;
    signingKey: string;
    evaluatedRun: number | null;
    auditHead: string | null;
  };
}

export type AuditAction = keyof AuditDetails;

const ACTIONS: Record<AuditAction, true> = {
  keygen: true,
  unlock: true,
  lock: true,
  import: true,
  'import-rejected': true,
  'hospital-key': true,
  train: true,
  predict: true,
  'predict-failed': true,
  name: true,
  decrypt: true,
  'decrypt-refused': true,
  evaluate: true,
  export: true,
  bench: true,
  report: true,
  policy: true,
  rotate: true,
  'key-restore': true,
};

export const AUDIT_ACTIONS = Object.keys(ACTIONS) as AuditAction[];

/** Where a use case records what it did; who did it and through which door are bound in when the port is made. */
export type AuditPort = <A extends AuditAction>(action: A, detail: AuditDetails[A]) => void;
