import { listAudit } from '../../src-main/audit/log.ts';
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caller } from '../helpers/caller.ts';
import { describe, expect, it } from 'vitest';
import { damagedBatches } from '../../src-main/app/integrity.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder, loadRowKey } from '../../src-main/services/key-sets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { PolicyError } from '../../src-main/services/policy.ts';
import { decryptRun } from '../../src-main/services/predictions.ts';
import { evaluateRun } from '../../src-main/services/evaluate.ts';
import { computeCohortStats } from '../../src-main/services/stats.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { IntegrityError } from '../../src-main/store/ciphertexts.ts';
import { patientsOfBlock } from '../../src-main/store/batches.ts';
import { DB_FILE } from '../../src-main/store/db.ts';
import { IntegrityKeyError } from '../../src-main/store/row-mac.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { tableCounts } from '../helpers/store.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/**
 * Someone with the database file but not the vault edits it with plain SQL, rewriting the SHA-256 checksums
 * to match: only the HMAC tags under the vault's key can catch that, so these tests fail without them.
 */
async function workspaceWithRun(dir: string) {
  const ws = Workspace.open(dir);
  const vault = new PassphraseVault(dir, PASSPHRASE);
  await createKeySet(caller(ws), 'standard', () => vault);
  const { batchId } = await importCsv(caller(ws), samplePath());
  const model = await trainFromCsv(samplePath(), {});
  registerModel(caller(ws), model);
  const { runId } = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
  return { ws, vault, model, batchId, runId };
}

/** Runs SQL on the workspace file through its own connection, as an attacker with the file would. */
function editFile(dir: string, edit: (db: Database.Database) => void): void {
  const db = new Database(join(dir, DB_FILE));
  try {
    edit(db);
  } finally {
    db.close();
  }
}

function rowId(dir: string, column: string): number {
  let id: number | undefined;
  editFile(dir, (db) => (id = db.prepare('SELECT id FROM ciphertexts WHERE column_name = ?').pluck().get(column) as number | undefined));
  if (id === undefined) throw new Error(`no ciphertext for column ${column}`);
  return id;
}

describe('per-row integrity tags (HMAC-SHA-256 under a key from the vault)', () => {
  it('refuses a ciphertext whose bytes were swapped for another valid ciphertext with a matching checksum, naming the row', async () => {
    using tmp = tempDir();
    const { ws, model, batchId } = await workspaceWithRun(tmp.dir);
    using _ = ws;
    const spo2 = rowId(tmp.dir, 'spo2');
    // spo2 now holds the encrypted temperatures: a well-formed ciphertext, a matching checksum, a wrong prediction.
    editFile(tmp.dir, (db) =>
      db
        .prepare(
          `UPDATE ciphertexts SET bytes = (SELECT bytes FROM ciphertexts WHERE column_name = 'temperature'),
             sha256 = (SELECT sha256 FROM ciphertexts WHERE column_name = 'temperature') WHERE id = ?`,
        )
        .run(spo2),
    );
    const before = tableCounts(ws.db);
    const e = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(IntegrityError);
    expect((e as Error).message).toBe(
      `ciphertext row ${spo2} (batch ${batchId}, block 0, column "spo2") failed verification: its integrity tag does not match ` +
        `(the row, or its block's patients, was edited, moved or inserted outside HomoPAI); re-import batch ${batchId} from its source`,
    );
    expect(tableCounts(ws.db), 'the refused prediction stored nothing').toEqual(before);
    // The keyless scan of the app's overview cannot see this edit; with the key it can.
    expect(await damagedBatches(ws.db, null)).toEqual(new Set());
    expect(await damagedBatches(ws.db, ws.rowMac())).toEqual(new Set([batchId]));
  });

  it('refuses a row whose metadata was edited (its level) or that was moved to another batch', async () => {
    using tmp = tempDir();
    const { ws, model, batchId } = await workspaceWithRun(tmp.dir);
    using _ = ws;
    const rr = rowId(tmp.dir, 'respiratory_rate');
    editFile(tmp.dir, (db) => db.prepare('UPDATE ciphertexts SET level = level - 1 WHERE id = ?').run(rr));
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(`ciphertext row ${rr} (batch ${batchId}, block 0, column "respiratory_rate")`);

    editFile(tmp.dir, (db) => {
      db.prepare('UPDATE ciphertexts SET level = level + 1 WHERE id = ?').run(rr);
      // A second batch that copies the first one's rows, tags included, under its own id.
      db.prepare(
        `INSERT INTO batches (id, key_fingerprint, origin, source_name, source_sha256, rows, dropped, features, labeled_rows, created_at)
         SELECT ? + 1, key_fingerprint, origin, 'copy', source_sha256, rows, dropped, features, labeled_rows, created_at FROM batches WHERE id = ?`,
      ).run(batchId, batchId);
      db.prepare('INSERT INTO patients SELECT ? + 1, block, slot, hospital_id, patient_id, labeled FROM patients WHERE batch_id = ?').run(batchId, batchId);
      db.prepare(
        `INSERT INTO ciphertexts (batch_id, block, kind, column_name, slots, level, bytes, sha256, provenance, mac)
         SELECT ? + 1, block, kind, column_name, slots, level, bytes, sha256, provenance, mac FROM ciphertexts WHERE batch_id = ?`,
      ).run(batchId, batchId);
    });
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] }), 'the original, restored, verifies again').resolves.toMatchObject({ patients: 19 });
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId + 1] })).rejects.toThrow(new RegExp(`^ciphertext row \\d+ \\(batch ${batchId + 1}, block 0,`));
  });

  it('refuses a row inserted without a tag, and a tag made with another key set', async () => {
    using tmp = tempDir();
    const { ws, model, batchId } = await workspaceWithRun(tmp.dir);
    using _ = ws;
    const temp = rowId(tmp.dir, 'temperature');
    editFile(tmp.dir, (db) => db.prepare('UPDATE ciphertexts SET mac = NULL WHERE id = ?').run(temp));
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(`ciphertext row ${temp} (batch ${batchId}, block 0, column "temperature")`);

    // The same data imported under another key set: its tags are valid there, and nowhere else.
    using other = tempDir();
    const second = await workspaceWithRun(other.dir);
    using __ = second.ws;
    let foreign: Buffer = Buffer.alloc(0);
    editFile(other.dir, (db) => (foreign = db.prepare("SELECT mac FROM ciphertexts WHERE column_name = 'temperature'").pluck().get() as Buffer));
    editFile(tmp.dir, (db) => db.prepare('UPDATE ciphertexts SET mac = ? WHERE id = ?').run(foreign, temp));
    await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(IntegrityError);
  });

  it('refuses an encrypted prediction vector replaced by another run’s before decrypting it', async () => {
    using tmp = tempDir();
    const { ws, vault, model, batchId, runId } = await workspaceWithRun(tmp.dir);
    using _ = ws;
    const { runId: second } = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
    // Run 2's vector is as valid as run 1's: only its tag, which names its run, tells them apart.
    editFile(tmp.dir, (db) =>
      db
        .prepare('UPDATE prediction_blocks SET bytes = (SELECT bytes FROM prediction_blocks WHERE run_id = ?), sha256 = (SELECT sha256 FROM prediction_blocks WHERE run_id = ?), mac = (SELECT mac FROM prediction_blocks WHERE run_id = ?) WHERE run_id = ?')
        .run(second, second, second, runId),
    );
    const holder = await KeyHolder.unlock(ws, vault);
    try {
      await expect(decryptRun(caller(ws), holder, runId)).rejects.toThrow(
        `prediction of run ${runId}, batch ${batchId}, block 0 failed verification: its integrity tag does not match`,
      );
      await expect(decryptRun(caller(ws), holder, second)).resolves.toHaveLength(19);
    } finally {
      holder.lock();
    }
  });

  it("refuses a block whose patients were edited: ids swapped, a label flag flipped", async () => {
    using tmp = tempDir();
    const { ws, vault, model, batchId, runId } = await workspaceWithRun(tmp.dir);
    using _ = ws;
    // Two patients trade ids: each would be shown the other's risk.
    const swap = (): void =>
      editFile(tmp.dir, (db) => {
        const [a, b] = db.prepare('SELECT patient_id FROM patients WHERE slot IN (0, 1) ORDER BY slot').pluck().all() as string[];
        const set = db.prepare('UPDATE patients SET patient_id = ? WHERE slot = ?');
        set.run(b, 0);
        set.run(a, 1);
      });
    swap();
    const holder = await KeyHolder.unlock(ws, vault);
    try {
      const swapped = `the patients of batch ${batchId}, block 0 are not those its ciphertexts were written for`;
      const decryptions = (): number => listAudit(ws.db, { action: 'decrypt' }).length;
      const before = decryptions();
      await expect(decryptRun(caller(ws), holder, runId)).rejects.toThrow(swapped);
      expect(decryptions(), 'refused before a single vector was decrypted').toBe(before);
      // Prediction attributes nothing to a patient: it verifies its inputs against the digest written with the
      // block and tags its output with that, so the swap is refused where values meet ids, at decryption.
      const { runId: afterSwap } = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
      await expect(decryptRun(caller(ws), holder, afterSwap)).rejects.toThrow(swapped);
      // Nor does the integrity scan with the key miss it.
      expect(await damagedBatches(ws.db, ws.rowMac())).toEqual(new Set([batchId]));
      // Evaluation reads the block's patients with its label column: they must match the digest the rows bind.
      await expect(evaluateRun(caller(ws), holder, afterSwap)).rejects.toThrow(IntegrityError);
      // A forger who also rewrites the written digest to the swapped patients', or deletes it, breaks every tag of
      // the block's ciphertexts.
      const written = (db: Database.Database): string => db.prepare('SELECT digest FROM patient_blocks WHERE batch_id = ? AND block = 0').pluck().get(batchId) as string;
      let original = '';
      editFile(tmp.dir, (db) => {
        original = written(db);
        db.prepare('UPDATE patient_blocks SET digest = ? WHERE batch_id = ? AND block = 0').run(patientsOfBlock(db, batchId, 0).digest, batchId);
      });
      await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(/^ciphertext row \d+ \(batch 1, block 0, column "[a-z_0-9]+"\) failed verification/);
      editFile(tmp.dir, (db) => db.prepare('DELETE FROM patient_blocks WHERE batch_id = ?').run(batchId));
      await expect(predict(caller(ws), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(/^ciphertext row \d+ \(batch 1, block 0, column "[a-z_0-9]+"\) failed verification/);
      editFile(tmp.dir, (db) => db.prepare('INSERT INTO patient_blocks (batch_id, block, digest) VALUES (?, 0, ?)').run(batchId, original));
      swap();
      await expect(decryptRun(caller(ws), holder, runId), 'swapped back, the run verifies again').resolves.toHaveLength(19);
      editFile(tmp.dir, (db) => db.exec('UPDATE patients SET labeled = 0 WHERE slot = 4'));
      await expect(evaluateRun(caller(ws), holder, runId)).rejects.toThrow(IntegrityError);
      // Cohort statistics mask and count the block's patients, read after its rows verified: they must be the
      // patients those rows bind.
      await expect(computeCohortStats(caller(ws), holder, [batchId])).rejects.toThrow(
        `the patients of batch ${batchId}, block 0 are not those its ciphertexts were written for`,
      );
    } finally {
      holder.lock();
    }
  });

  it('gives a workspace written before v12 the digests of its patients as stored, so a block edited before still fails', async () => {
    using tmp = tempDir();
    const { ws, model, batchId } = await workspaceWithRun(tmp.dir);
    ws[Symbol.dispose]();
    // The file as a v11 HomoPAI left it: no written digests.
    const toV11 = (): void =>
      editFile(tmp.dir, (db) => {
        db.exec('DROP TABLE patient_blocks');
        db.exec('ALTER TABLE hospital_keys DROP COLUMN mac');
        db.pragma('user_version = 11');
      });
    toV11();
    using reopened = Workspace.open(tmp.dir);
    await loadRowKey(reopened, new PassphraseVault(tmp.dir, PASSPHRASE));
    await expect(predict(caller(reopened), { modelId: model.id, batchIds: [batchId] })).resolves.toMatchObject({ patients: 19 });
    reopened[Symbol.dispose]();

    // Edited under v11, then migrated: the digest taken is the edited patients', which the tags do not bind.
    toV11();
    editFile(tmp.dir, (db) => db.exec("UPDATE patients SET patient_id = 'someone-else' WHERE slot = 0"));
    using edited = Workspace.open(tmp.dir);
    await loadRowKey(edited, new PassphraseVault(tmp.dir, PASSPHRASE));
    await expect(predict(caller(edited), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(IntegrityError);
  });

  it('does not let patient rows without ciphertexts lift an aggregate over k', async () => {
    using tmp = tempDir();
    const csv = join(tmp.dir, 'four.csv');
    writeFileSync(csv, readFileSync(samplePath(), 'utf8').split('\n').slice(0, 5).join('\n') + '\n');
    using ws = Workspace.open(join(tmp.dir, 'ws'));
    const vault = new PassphraseVault(ws.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const { batchId } = await importCsv(caller(ws), csv);
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const { runId } = await predict(caller(ws), { modelId: model.id, batchIds: [batchId] });
    const holder = await KeyHolder.unlock(ws, vault);
    try {
      await expect(evaluateRun(caller(ws), holder, runId)).rejects.toThrow(/holds 4 labeled patient\(s\), fewer than k = 5/);
      // Three labeled "patients" in a block that has no ciphertext: the store's count says 7, enough for k = 5.
      editFile(ws.dir, (db) =>
        db.exec(`INSERT INTO patients (batch_id, block, slot, hospital_id, patient_id, labeled)
                 SELECT ${batchId}, 1, slot, hospital_id, 'ghost-' || slot, 1 FROM patients WHERE batch_id = ${batchId} AND slot < 3`),
      );
      const e = await evaluateRun(caller(ws), holder, runId).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(PolicyError);
      // The store's count (7) passes the first check; the verified blocks' (4) is what the aggregate is held to.
      expect((e as PolicyError).message).toMatch(/^batch \d+ holds 4 labeled patient\(s\), fewer than k = 5/);
      expect(listAudit(ws.db, { action: 'decrypt-refused' }).at(-1)!.detail).toMatchObject({ patients: 4, minPatients: 5 });
    } finally {
      holder.lock();
    }
  });

  it('needs the key from the vault to read or write rows, and derives the same key after every unlock', async () => {
    using tmp = tempDir();
    const { ws, vault, model, batchId } = await workspaceWithRun(tmp.dir);
    ws[Symbol.dispose]();

    using reopened = Workspace.open(tmp.dir);
    const before = tableCounts(reopened.db);
    await expect(importCsv(caller(reopened), samplePath())).rejects.toThrow(IntegrityKeyError);
    await expect(predict(caller(reopened), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(IntegrityKeyError);
    expect(tableCounts(reopened.db)).toEqual(before);

    await loadRowKey(reopened, vault);
    const { runId } = await predict(caller(reopened), { modelId: model.id, batchIds: [batchId] });
    const holder = await KeyHolder.unlock(reopened, vault);
    expect((await decryptRun(caller(reopened), holder, runId)).filter((p) => p.atRisk)).toHaveLength(3);
    holder.lock();
    reopened.dropRowMac();
    await expect(predict(caller(reopened), { modelId: model.id, batchIds: [batchId] })).rejects.toThrow(IntegrityKeyError);
  });
});
