import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src-main/app/session.ts';
import { verifyAudit } from '../../src-main/audit/log.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import type { DecryptedRun } from '../../src-main/services/decrypted-run.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { DB_FILE } from '../../src-main/store/db.ts';
import { IntegrityKeyError, RowMac } from '../../src-main/store/row-mac.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { CkksPool } from '../../src-main/workers/pool.ts';
import { caller } from '../helpers/caller.ts';
import { heldRunOf } from '../helpers/decrypted-run.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';
import { join } from 'node:path';

/*
 * Secret material after it is no longer needed, observed from outside the code that should drop it: the very
 * buffers a caller was handed are zero, the objects refuse further use, and a worker thread, asked over its own
 * protocol, holds no key. Each test fails if the zeroing or dropping it checks is removed.
 */

/** The buffer a RowMac keeps its key in: read once, by reflection, to check it is zeroed later. */
function keyBufferOf(mac: RowMac): Buffer {
  return (mac as unknown as { key: Buffer }).key;
}

/** The probabilities a held decrypted run keeps, read by reflection likewise. */
function probabilitiesOf(run: DecryptedRun): Float64Array {
  return (run as unknown as { columns: { probabilities: Float64Array } }).columns.probabilities;
}

const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

describe('key hygiene', () => {
  const tmp = tempDir('homopai-hygiene-');
  let vault: PassphraseVault;

  beforeAll(async () => {
    vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    using ws = Workspace.open(tmp.dir);
    await createKeySet(caller(ws), 'standard', () => vault);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('KeyHolder.lock zeroes the secret key it handed out and refuses to hand it out again', async () => {
    using ws = Workspace.open(tmp.dir);
    const holder = await KeyHolder.unlock(ws, vault);
    const secret = holder.secretKey();
    expect(zero(secret)).toBe(false);
    holder.lock();
    expect(zero(secret)).toBe(true);
    expect(holder.unlocked).toBe(false);
    expect(() => holder.secretKey()).toThrow(/locked/);
  });

  it('RowMac.destroy zeroes its key and refuses to tag or sign', async () => {
    using ws = Workspace.open(tmp.dir);
    const holder = await KeyHolder.unlock(ws, vault);
    const mac = holder.rowMac();
    holder.lock();
    const key = keyBufferOf(mac);
    expect(zero(key)).toBe(false);
    mac.destroy();
    expect(zero(key)).toBe(true);
    expect(() => mac.tag('t', [1], 'x')).toThrow(IntegrityKeyError);
    expect(() => mac.signAnchor(Buffer.from('head'))).toThrow(IntegrityKeyError);
  });

  for (const reason of ['user', 'idle'] as const) {
    it(`a session locked by the ${reason === 'user' ? 'user' : 'idle timer'} zeroes the secret key, drops the row key and zeroes the decrypted run it held`, async () => {
      const session = new Session({ workspaceDir: tmp.dir, emit: () => undefined, idleLockMs: reason === 'idle' ? 150 : 60_000 });
      try {
        const holder = await KeyHolder.unlock(session.workspace(), vault);
        session.begin('researcher', holder);
        const secret = holder.secretKey();
        const rowKey = keyBufferOf(session.workspace().rowMac());
        const run = session.holdDecrypted(heldRunOf(1, [{ batchId: 1, hospital: 'H', patientId: 'P1', probability: 0.8125 }]), holder);
        const probabilities = probabilitiesOf(run);
        expect(zero(new Uint8Array(probabilities.buffer))).toBe(false);
        if (reason === 'user') await session.lock('user');
        else {
          session.touch();
          await expect.poll(() => session.role, { timeout: 5_000 }).toBeNull();
          // The lock's audit entry is written before the row key is dropped.
          await expect.poll(() => session.workspace().rowMacIfLoaded(), { timeout: 5_000 }).toBeNull();
        }
        expect(session.holderIfHeld()).toBeNull();
        expect(zero(secret)).toBe(true);
        expect(session.workspace().rowMacIfLoaded()).toBeNull();
        expect(zero(rowKey)).toBe(true);
        expect(zero(new Uint8Array(probabilities.buffer))).toBe(true);
        expect(() => session.heldDecrypted(1)).toThrow(/cleared on lock/);
      } finally {
        session.dispose();
      }
    });
  }

  it('an import by the key holder leaves no secret key in the encryptor threads, as they themselves answer', async () => {
    using ws = Workspace.open(tmp.dir);
    const holder = await KeyHolder.unlock(ws, vault);
    const pool = new CkksPool('encryptor', 2);
    try {
      const r = await importCsv(caller(ws), samplePath(), { duplicates: 'allow' }, {}, { holder, pool });
      expect(r.encryption).toBe('seeded-symmetric');
      expect(await pool.heldKeys()).toEqual([[], []]);
      // Forgotten, and known to be: the next import sends the key again, and forgets it again.
      expect((await importCsv(caller(ws), samplePath(), { duplicates: 'allow' }, {}, { holder, pool })).rows).toBe(19);
      expect(await pool.heldKeys()).toEqual([[], []]);
    } finally {
      holder.lock();
      await pool.close();
    }
  });

  it('a key a worker failed to load is sent again, not taken as loaded', async () => {
    using ws = Workspace.open(tmp.dir);
    const keySet = ws.requireKeySet();
    const pool = new CkksPool('encryptor', 1);
    try {
      const ref = (publicKey: Uint8Array) => ({ preset: keySet.preset, keyId: 'k', key: { mode: 'public-key', publicKey } as const });
      await expect(pool.encrypt(ref(new Uint8Array(16)), [new Float64Array(4)])).rejects.toThrow();
      expect((await pool.encrypt(ref(keySet.publicKey), [new Float64Array(4)])).length).toBe(1);
      await pool.forget('k');
      expect(await pool.heldKeys()).toEqual([[]]);
    } finally {
      await pool.close();
    }
  });

  it('the audit verifier reports an entry whose prev_hash column alone was edited', () => {
    using ws = Workspace.open(tmp.dir);
    expect(verifyAudit(ws.db).ok).toBe(true);
    const db = new Database(join(tmp.dir, DB_FILE));
    try {
      // The file's holder drops the append-only trigger and rewrites one link of the chain, nothing else.
      db.exec('DROP TRIGGER IF EXISTS audit_log_no_update');
      // Its first hex digit changed, whatever it was: one time in 16 'f' would have left it as it was.
      db.prepare("UPDATE audit_log SET prev_hash = (CASE substr(prev_hash, 1, 1) WHEN 'f' THEN 'e' ELSE 'f' END) || substr(prev_hash, 2) WHERE seq = 2").run();
    } finally {
      db.close();
    }
    const v = verifyAudit(ws.db);
    expect(v).toMatchObject({ ok: false });
    expect(JSON.stringify(v)).toMatch(/entry 2 does not chain to entry 1/);
  });
});
