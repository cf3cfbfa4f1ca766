import type { KeySetInfo } from '../../src-preload/contract.ts';
import { breathe, CancelledError, type JobHooks } from '../common/jobs.ts';
import { contextFor } from '../ckks/contexts.ts';
import { ColumnDecryptor } from '../ckks/decrypt.ts';
import { ColumnEncryptor } from '../ckks/encrypt.ts';
import { generateKeySet } from '../ckks/keys.ts';
import { ciphertextsById, replaceCiphertext } from '../store/ciphertexts.ts';
import { moveCohortStats } from '../store/federation.ts';
import { activateKeySet, insertKeySet, keySetByFingerprint, type KeySetRow } from '../store/keysets.ts';
import { retagModels } from '../store/models.ts';
import { retagNames } from '../store/names.ts';
import { retagPins } from '../store/federation.ts';
import { getPolicyRow, putPolicyRow } from '../store/policies.ts';
import { moveRuns, predictionBlock, replacePredictionBlock } from '../store/predictions.ts';
import {
  finishRotation,
  parsePredictionKey,
  type PendingBlob,
  pendingBlobs,
  type Rotation,
  runningRotation,
  stageBlob,
  stagedBlob,
  stagedKeys,
  startRotation,
} from '../store/rotation.ts';
import { RowMac } from '../store/row-mac.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import type { Caller } from './caller.ts';
import { generatedKeyFields, integrityKeyId, type KeyHolder, keySetInfo } from './key-sets.ts';

/** What happens to the old secret key once every batch is under the new one: the key holder's choice. */
export type OldKeyFate = 'archive' | 'destroy';

export interface RotateOptions {
  old: OldKeyFate;
  /** Where the clinicians' credential for the new key set is sealed; null leaves clinicians to be granted again. */
  clinicians: SecretKeyVault | null;
}

export interface RotationResult {
  from: KeySetInfo;
  to: KeySetInfo;
  /** Whether this call resumed a rotation an earlier one started (interrupted, or cancelled). */
  resumed: boolean;
  ciphertexts: number;
  predictionBlocks: number;
  old: OldKeyFate;
  clinicians: boolean;
}

const RESUMABLE = 'the blocks re-encrypted so far are kept, and the old key set is still in use: run it again to continue';

/** Blobs re-encrypted per transaction: small enough that an interruption loses seconds, large enough to amortise the commit. */
const CHUNK = 32;

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/**
 * Rotates the workspace to a new key set, keeping every batch: generates it (same parameters and Galois steps),
 * re-encrypts every stored ciphertext and prediction vector under it block by block into a staging table, then
 * in one transaction swaps the blobs in, re-tags every row that steers a computation with the new integrity key,
 * carries the release policy over and makes the new key set active. Until that commit the old key set stays
 * active and usable, and an interruption (crash, cancellation) loses nothing: the next call resumes. Then the
 * old secret key is archived (left in the vault, unused) or destroyed.
 *
 * Re-encryption decrypts each blob in the key holder's memory and encrypts it again at once: SEAL's public API
 * has no key switching between two secret keys. The values never leave this function, are never written, and
 * each buffer is zeroed after use; it is the key holder's own act on the key holder's own data, recorded as such.
 */
export async function rotateKeys(caller: Caller, holder: KeyHolder, vault: SecretKeyVault, opts: RotateOptions, hooks: JobHooks = {}): Promise<RotationResult> {
  const { ws } = caller;
  const from = ws.requireKeySet();
  if (holder.fingerprint !== from.fingerprint) throw new RotationError('rotation needs the secret key of the active key set');
  const existing = runningRotation(ws.db);
  if (existing && existing.fromKey !== from.fingerprint) throw new RotationError(`rotation ${existing.id} started from another key set: abort it first`);
  // The new secret key is sealed in this vault: it must be the one that opens the current key (a mistyped
  // passphrase would seal the new key where nobody can open it, and the commit would then lose every batch).
  (await vault.load(from.fingerprint)).fill(0);

  const { rotation, to, secretKey } = existing ? await resume(ws.db, existing, vault) : await begin(caller, from, vault);
  const newMac = RowMac.fromSecretKey(secretKey, to.fingerprint);
  try {
    let counts: { ciphertexts: number; predictionBlocks: number };
    try {
      await reencrypt(caller, holder, rotation, from, to, secretKey, newMac, hooks);
      counts = await commit(caller, rotation, from, to, newMac, opts.old);
    } catch (e) {
      // Committed, the workspace owns the new integrity key; otherwise it is zeroed here.
      if (ws.rowMacIfLoaded() !== newMac) newMac.destroy();
      throw e;
    }
    let clinicians = false;
    if (opts.clinicians) {
      const key = RowMac.deriveKey(secretKey, to.fingerprint);
      try {
        await opts.clinicians.store(integrityKeyId(to.fingerprint), key);
        clinicians = true;
      } finally {
        key.fill(0);
      }
      caller.audit('keygen', { key: 'clinician-credential', keySet: to.fingerprint, custody: opts.clinicians.custody });
    }
    // Only now, with every batch committed under the new key, may the old one go.
    if (opts.old === 'destroy') {
      await vault.destroy(from.fingerprint);
      await vault.destroy(integrityKeyId(from.fingerprint));
      if (opts.clinicians) await opts.clinicians.destroy(integrityKeyId(from.fingerprint));
    }
    caller.audit('rotate', { phase: 'old-key', from: from.fingerprint, to: to.fingerprint, old: opts.old });
    return { from: keySetInfo(from), to: keySetInfo({ ...to, active: true }), resumed: existing !== null, ...counts, old: opts.old, clinicians };
  } finally {
    secretKey.fill(0);
  }
}

/** Gives up a rotation in progress: its staged blobs and its new secret key go; the old key set never stopped being active. */
export async function abortRotation(caller: Caller, vault: SecretKeyVault): Promise<{ rotation: number; to: string } | null> {
  const r = runningRotation(caller.ws.db);
  if (!r) return null;
  await caller.ws.transaction(async () => {
    finishRotation(caller.ws.db, r.id, 'aborted');
    caller.audit('rotate', { phase: 'abort', from: r.fromKey, to: r.toKey });
  });
  await vault.destroy(r.toKey);
  return { rotation: r.id, to: r.toKey };
}

async function begin(caller: Caller, from: KeySetRow, vault: SecretKeyVault): Promise<{ rotation: Rotation; to: KeySetRow; secretKey: Uint8Array }> {
  const ctx = await contextFor(from.preset);
  const ks = generateKeySet(ctx, from.galoisSteps);
  // The vault first: a crash after it leaves an unused vault entry, never a key set row whose secret key is lost.
  await vault.store(ks.fingerprint, ks.secretKey);
  const to: KeySetRow = { ...from, ...generatedKeyFields(ks, vault.custody), active: false };
  const rotation = await caller.ws.transaction(async () => {
    insertKeySet(caller.ws.db, to, false);
    const r = startRotation(caller.ws.db, from.fingerprint, to.fingerprint);
    caller.audit('keygen', { key: 'key-set', keySet: to.fingerprint, preset: to.preset, custody: to.custody });
    caller.audit('rotate', { phase: 'start', from: from.fingerprint, to: to.fingerprint });
    return r;
  });
  return { rotation, to, secretKey: ks.secretKey };
}

async function resume(db: Caller['ws']['db'], rotation: Rotation, vault: SecretKeyVault): Promise<{ rotation: Rotation; to: KeySetRow; secretKey: Uint8Array }> {
  const to = keySetByFingerprint(db, rotation.toKey);
  if (!to) throw new RotationError(`rotation ${rotation.id} names key set ${rotation.toKey.slice(0, 16)}, which the workspace does not hold: abort it`);
  return { rotation, to, secretKey: await vault.load(to.fingerprint) };
}

/** Stages every blob still under the old key set, CHUNK per transaction, until none is left. */
async function reencrypt(
  caller: Caller,
  holder: KeyHolder,
  rotation: Rotation,
  from: KeySetRow,
  to: KeySetRow,
  secretKey: Uint8Array,
  newMac: RowMac,
  hooks: JobHooks,
): Promise<void> {
  const { ws } = caller;
  const ctx = await contextFor(from.preset);
  using decryptor = new ColumnDecryptor(ctx, holder.secretKey());
  using encryptor = new ColumnEncryptor(ctx, { mode: 'seeded-symmetric', publicKey: to.publicKey, secretKey });
  const again = (bytes: Uint8Array, slots: number): Uint8Array => {
    const values = decryptor.decrypt(bytes, slots);
    try {
      return encryptor.encrypt(values);
    } finally {
      values.fill(0);
    }
  };
  const pending = pendingBlobs(ws.db, rotation);
  const total = pending.length;
  for (let done = 0; done < total; done += CHUNK) {
    if (hooks.signal?.aborted) throw new CancelledError('the key rotation', RESUMABLE);
    const chunk = pending.slice(done, done + CHUNK);
    ws.db.transaction(() => {
      for (const p of chunk) stageBlob(ws.db, newMac, rotation.id, { ...p, sourceSha256: p.sha256, level: ctx.topLevel, bytes: reencrypted(ws, p, again) });
    })();
    hooks.onProgress?.({ phase: 're-encrypting', done: Math.min(done + CHUNK, total), total });
    await breathe();
  }
  // A stop asked for during the last chunk is honoured too: staged, not committed.
  if (hooks.signal?.aborted) throw new CancelledError('the key rotation', RESUMABLE);
}

/** One blob, read verified under the old key set's tags and encrypted again. */
function reencrypted(ws: Caller['ws'], p: PendingBlob, again: (bytes: Uint8Array, slots: number) => Uint8Array): Uint8Array {
  if (p.source === 'ciphertexts') {
    const [row] = ciphertextsById(ws.db, ws.rowMac(), [Number(p.key)]);
    return again(row!.bytes, row!.slots);
  }
  const block = predictionBlock(ws.db, ws.rowMac(), parsePredictionKey(p.key));
  return again(block.bytes, block.slots);
}

/** The swap, all or nothing: blobs, tags, the policy, the active key set, and the log entry that records it. */
async function commit(
  caller: Caller,
  rotation: Rotation,
  from: KeySetRow,
  to: KeySetRow,
  newMac: RowMac,
  old: OldKeyFate,
): Promise<{ ciphertexts: number; predictionBlocks: number }> {
  const { ws } = caller;
  const oldMac = ws.rowMac();
  return ws.transaction(async () => {
    const db = ws.db;
    // Checked inside the transaction: nothing imported under the old key set slips past the swap.
    const left = pendingBlobs(db, rotation);
    if (left.length > 0) throw new RotationError(`${left.length} blob(s) were stored under the old key set during the rotation: run it again to finish`);
    let ciphertexts = 0;
    let predictions = 0;
    for (const { source, key } of stagedKeys(db, rotation.id)) {
      const s = stagedBlob(db, newMac, rotation.id, source, key);
      if (source === 'ciphertexts') {
        replaceCiphertext(db, newMac, Number(key), s.level, s.bytes);
        ciphertexts++;
      } else {
        replacePredictionBlock(db, newMac, parsePredictionKey(key), s.level, s.bytes);
        predictions++;
      }
    }
    moveRuns(db, oldMac, newMac, from.fingerprint, to.fingerprint);
    retagModels(db, oldMac, newMac);
    retagNames(db, oldMac, newMac);
    retagPins(db, oldMac, newMac);
    moveCohortStats(db, oldMac, newMac, from.fingerprint, to.fingerprint);
    const policy = getPolicyRow(db, oldMac, from.fingerprint);
    if (policy) putPolicyRow(db, newMac, to.fingerprint, policy);
    db.prepare('UPDATE batches SET key_fingerprint = ? WHERE key_fingerprint = ?').run(to.fingerprint, from.fingerprint);
    activateKeySet(db, to.fingerprint);
    finishRotation(db, rotation.id, 'committed');
    // Before the entry's own afterCommit: the log's anchor is then signed with the new integrity key.
    ws.afterCommit(() => ws.useRowMac(newMac));
    caller.audit('rotate', { phase: 'commit', from: from.fingerprint, to: to.fingerprint, ciphertexts, predictionBlocks: predictions, old });
    return { ciphertexts, predictionBlocks: predictions };
  });
}
