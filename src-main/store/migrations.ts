import { patientsOfBlock } from './batches.ts';
import type { Db } from './db.ts';

/**
 * Schema versions, applied in order and recorded in PRAGMA user_version. Append only: a shipped migration
 * is never edited. Nothing here holds a plaintext vital or label: those exist only inside ciphertext blobs.
 */
export const MIGRATIONS: readonly (string | ((db: Db) => void))[] = [
  `
  CREATE TABLE key_sets (
    fingerprint TEXT PRIMARY KEY,
    preset TEXT NOT NULL,
    poly_modulus_degree INTEGER NOT NULL,
    coeff_modulus_bits TEXT NOT NULL,
    scale_bits INTEGER NOT NULL,
    public_key BLOB NOT NULL,
    relin_keys BLOB NOT NULL,
    galois_keys BLOB,
    galois_steps TEXT NOT NULL DEFAULT '[]',
    custody TEXT NOT NULL,
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE hospitals (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    key_fingerprint TEXT NOT NULL REFERENCES key_sets(fingerprint),
    origin TEXT NOT NULL CHECK (origin IN ('csv', 'bundle')),
    source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    dropped INTEGER NOT NULL,
    features TEXT NOT NULL,
    labeled_rows INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE patients (
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    hospital_id INTEGER NOT NULL REFERENCES hospitals(id),
    patient_id TEXT NOT NULL,
    labeled INTEGER NOT NULL,
    PRIMARY KEY (batch_id, block, slot)
  ) WITHOUT ROWID;
  CREATE INDEX patients_by_hospital ON patients(hospital_id);
  CREATE TABLE ciphertexts (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('feature', 'label')),
    column_name TEXT NOT NULL,
    slots INTEGER NOT NULL,
    level INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    UNIQUE (batch_id, block, column_name)
  );
  CREATE TABLE models (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    json TEXT NOT NULL
  );
  CREATE TABLE prediction_runs (
    id INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL REFERENCES models(id),
    key_fingerprint TEXT NOT NULL REFERENCES key_sets(fingerprint),
    scaling TEXT NOT NULL,
    batch_ids TEXT NOT NULL,
    patients INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE prediction_blocks (
    run_id INTEGER NOT NULL REFERENCES prediction_runs(id) ON DELETE CASCADE,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    block INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    level INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, batch_id, block)
  );
  CREATE TABLE bench_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    json TEXT NOT NULL
  );
  `,
  // v2: the audit log. The triggers stop the app and casual SQL from rewriting history; someone with the
  // file can drop them, which is what the hash chain (src-main/audit/log.ts) is for.
  `
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_log_by_action ON audit_log(action, seq);
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
  END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
  END;
  `,
  // v3: multi-hospital bundles. A hospital's signing key is pinned at its first bundle; a bundle id is imported
  // once (a replay is refused), and its row does not cascade away with its batch, so it stays refused. Cohort
  // statistics are aggregates (means, standard deviations over >= k patients), like a model's scaler.
  `
  CREATE TABLE hospital_keys (
    hospital TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    registered_at TEXT NOT NULL
  );
  CREATE TABLE bundles (
    bundle_id TEXT PRIMARY KEY,
    hospital TEXT NOT NULL REFERENCES hospital_keys(hospital),
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    imported_at TEXT NOT NULL
  );
  CREATE TABLE cohort_stats (
    id INTEGER PRIMARY KEY,
    key_fingerprint TEXT NOT NULL REFERENCES key_sets(fingerprint),
    batch_ids TEXT NOT NULL,
    json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  `,
  // v4: provenance on every stored ciphertext, which the decryption policy (services/policy.ts) decides on.
  // Imported columns are inputs, never decrypted for their own sake; prediction vectors are evaluator outputs.
  // The CHECKs tie the tag to the table, so no row can pass for the other kind; the defaults tag existing rows
  // and keep every writer unchanged.
  `
  ALTER TABLE ciphertexts ADD COLUMN provenance TEXT NOT NULL DEFAULT 'input' CHECK (provenance = 'input');
  ALTER TABLE prediction_blocks ADD COLUMN provenance TEXT NOT NULL DEFAULT 'evaluator-output'
    CHECK (provenance = 'evaluator-output');
  `,
  // v5: an HMAC-SHA-256 tag on every stored ciphertext row (store/row-mac.ts). Rows written before it have
  // none and fail verification: a missing tag cannot be told apart from a row inserted behind the app's back.
  `
  ALTER TABLE ciphertexts ADD COLUMN mac BLOB;
  ALTER TABLE prediction_blocks ADD COLUMN mac BLOB;
  `,
  // v6: every row that steers a computation or a release carries a tag too: models (which model predicts),
  // prediction runs (which model and batches a run used, with the model's hash), cohort statistics (the scaler of
  // encrypted training) and the workspace's release policy (k, differential privacy, the cap on models per batch).
  `
  ALTER TABLE models ADD COLUMN mac BLOB;
  ALTER TABLE prediction_runs ADD COLUMN model_sha256 TEXT NOT NULL DEFAULT '';
  ALTER TABLE prediction_runs ADD COLUMN mac BLOB;
  ALTER TABLE cohort_stats ADD COLUMN mac BLOB;
  CREATE TABLE policies (
    key_fingerprint TEXT PRIMARY KEY REFERENCES key_sets(fingerprint),
    json TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    mac BLOB NOT NULL
  );
  `,
  // v7: a patient already stored is found by hospital and id (or pseudonym) when a file or bundle is imported again.
  `
  CREATE INDEX patients_by_id ON patients(hospital_id, patient_id);
  `,
  // v8: key rotation (services/key-rotation.ts). A rotation re-encrypts every stored ciphertext under a new key
  // set into rotation_blocks, block by block and resumably, while the old key set stays active; one transaction
  // then swaps them in. Staged rows are tagged with the new key set's integrity key, so a staged blob edited in
  // the file between a crash and the resume is refused rather than adopted.
  `
  CREATE TABLE rotations (
    id INTEGER PRIMARY KEY,
    from_key TEXT NOT NULL REFERENCES key_sets(fingerprint),
    to_key TEXT NOT NULL REFERENCES key_sets(fingerprint),
    started_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'committed', 'aborted')),
    finished_at TEXT
  );
  CREATE TABLE rotation_blocks (
    rotation_id INTEGER NOT NULL REFERENCES rotations(id),
    source TEXT NOT NULL CHECK (source IN ('ciphertexts', 'prediction_blocks')),
    source_key TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    level INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (rotation_id, source, source_key)
  ) WITHOUT ROWID;
  `,
  // v9: how a run's prediction vectors turn into probabilities. 'exact': the evaluator stops at the logit and the
  // key holder applies the logistic function after decrypting; 'polynomial': the vectors already hold the
  // polynomial sigmoid (every run before v9 was one).
  `
  ALTER TABLE prediction_runs ADD COLUMN sigmoid TEXT NOT NULL DEFAULT 'polynomial' CHECK (sigmoid IN ('exact', 'polynomial'));
  `,
  // v10: names people give models and runs. Tagged like every row a reader relies on: a name edited in the file
  // is not shown (the id is), so nobody can relabel a model "validated" from outside the app.
  `
  CREATE TABLE names (
    kind TEXT NOT NULL CHECK (kind IN ('model', 'run')),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (kind, id)
  ) WITHOUT ROWID;
  `,
  // v11: patients_by_id (v7) starts with hospital_id, so it serves every lookup by hospital too; the older index
  // on hospital_id alone only cost a second B-tree insert per patient (a quarter of a 1M-row import's SQLite time).
  `
  DROP INDEX patients_by_hospital;
  `,
  // v12: each block's patient digest (store/batches.ts), kept as it was when the block was written. The row tags
  // of the block's ciphertexts bind it, so it is verified with them, and a computation that attributes no value
  // to a patient (encrypted prediction) verifies its inputs without reading 4,096 patient rows per block. A
  // block's patients, when read, must match it. Existing blocks get the digest of their patients as stored: a
  // block already tampered with keeps failing its tags.
  (db) => {
    db.exec(`
    CREATE TABLE patient_blocks (
      batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
      block INTEGER NOT NULL,
      digest TEXT NOT NULL,
      PRIMARY KEY (batch_id, block)
    ) WITHOUT ROWID;
    `);
    const blocks = db.prepare('SELECT DISTINCT batch_id, block FROM patients').raw().all() as [number, number][];
    const insert = db.prepare('INSERT INTO patient_blocks (batch_id, block, digest) VALUES (?, ?, ?)');
    for (const [batchId, block] of blocks) insert.run(batchId, block, patientsOfBlock(db, batchId, block).digest);
  },
  // v13: the hospitals' pinned signing keys carry a tag too: a pin decides which bundles are accepted under a
  // hospital's name. Pins written before have none and are not trusted until the key holder accepts the key
  // again, as for a changed key (services/bundle-import.ts).
  `
  ALTER TABLE hospital_keys ADD COLUMN mac BLOB;
  `,
];

/** Applies the migrations a workspace database lacks, each in its own transaction. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `workspace database schema v${current} is newer than this HomoPAI (v${MIGRATIONS.length}); upgrade the app`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      const migration = MIGRATIONS[v]!;
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
