import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BundleImportResult } from '../../src-preload/contract.ts';
import { shortFingerprint } from '../ckks/keys.ts';
import { sharedPool } from '../workers/pool.ts';
import { contextFor } from '../ckks/contexts.ts';
import { type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';
import { listAudit } from '../audit/log.ts';
import { createBatch, finishBatch, insertPatients, storedPatientIds } from '../store/batches.ts';
import { sha256Hex } from '../common/files.ts';
import { insertCiphertext, LABEL_COLUMN } from '../store/ciphertexts.ts';
import { bundleById, bundleCount, hospitalKey, insertBundle, type PinnedKey, pinHospitalKey, replaceHospitalKey } from '../store/federation.ts';
import { type ParsedBundle, parseBundle } from '../federation/bundle.ts';
import { BundleError } from '../federation/errors.ts';
import { keyIdOf, verifySignature } from '../federation/identity.ts';

/** A million patients in one bundle are ~0.6 GB; a file above this is refused before it is read. */
const MAX_BUNDLE_BYTES = 2 ** 31 - 1;

/**
 * Checks every ciphertext against the key set's parameters before anything is stored, on an evaluator worker:
 * its bytes bounded before anything inflates them (a hostile bundle's zstd bomb is refused in milliseconds), then
 * loaded, which makes SEAL validate it, and found to be a fresh public-key ciphertext (two polynomials, top level,
 * exactly the context scale), which the scale-exact circuits rely on. The main thread never loads them.
 */
async function checkCiphertexts(ws: Workspace, bundle: ParsedBundle, hooks: JobHooks): Promise<void> {
  const { preset } = ws.requireKeySet();
  const ctx = await contextFor(preset);
  const pool = sharedPool('evaluator');
  const blocks = bundle.header.blocks;
  for (const [i, b] of blocks.entries()) {
    throwIfCancelled(hooks, 'the bundle import');
    hooks.onProgress?.({ phase: 'verifying ciphertexts', done: i, total: blocks.length });
    if (b.slots > ctx.slotCount) throw new BundleError('malformed', `block ${i + 1} declares ${b.slots} patients; a ciphertext holds ${ctx.slotCount}`);
    const columns = bundle.ciphertexts[i]!;
    try {
      await pool.checkFresh(preset, columns, columns.map((_, j) => `ciphertext ${j + 1} of block ${i + 1}`));
    } catch (e) {
      throw new BundleError('ciphertext', `${(e as Error).message.split('\n')[0]}: refused, nothing stored`);
    }
  }
}

export interface BundleImportOptions {
  /**
   * The new signing key of a hospital whose pinned key changed (a reinstalled machine, a lost vault), as the
   * key holder confirmed it with the hospital out of band: its short fingerprint or full key id. Only a
   * bundle signed with exactly that key replaces the pin.
   */
  acceptKey?: string;
  /**
   * A patient (hospital and pseudonym) already stored under the key set: the bundle is refused (default), or
   * imported anyway (allow). A bundle's rows cannot be left out one by one: its ciphertexts are signed whole.
   */
  duplicates?: 'reject' | 'allow';
}

/** Whether a key id is the one the user typed: its full id, or the short fingerprint the app and CLI show. */
function namesKey(typed: string, keyId: string): boolean {
  const hex = typed.replace(/[\s-]/g, '').toLowerCase();
  // At least the 16 hex digits of a short fingerprint; a key id is hex, so a prefix of it is too.
  return hex.length >= 16 && keyId.startsWith(hex);
}

/**
 * The workstation side: verifies a hospital's bundle (format version, key set, pinned signing key, signature,
 * replay, ciphertext validity) and stores its ciphertexts as one batch, in one transaction, without decrypting
 * anything. Any refusal is a BundleError and leaves the store untouched.
 */
export async function importBundle(
  caller: Caller,
  path: string,
  options: BundleImportOptions = {},
  hooks: JobHooks = {},
): Promise<BundleImportResult> {
  try {
    return await storeBundle(caller, path, options, hooks);
  } catch (e) {
    // Recorded outside the import's transaction: nothing of the bundle was stored.
    if (e instanceof BundleError) caller.audit('import-rejected', { file: basename(path).slice(0, 200), reason: e.code });
    throw e;
  }
}

/** What an accepted key took the place of: the pinned key, said unverified when its tag failed, or a deleted pin. */
function replaced(pinned: PinnedKey | null): string {
  if (pinned === null) return 'a deleted pin';
  return pinned.problem === null ? shortFingerprint(pinned.keyId) : `${shortFingerprint(pinned.keyId)} (unverified pin)`;
}

/** Bundles of a hospital the activity log records as imported: the log outlives rows deleted from the store. */
function bundleImportsLogged(ws: Workspace, hospital: string): number {
  // Only a bundle's import entry names one hospital (a CSV's counts them).
  return listAudit(ws.db, { action: 'import' }).filter((e) => e.detail['hospital'] === hospital).length;
}

async function storeBundle(caller: Caller, path: string, options: BundleImportOptions, hooks: JobHooks): Promise<BundleImportResult> {
  const { ws } = caller;
  const keySet = ws.requireKeySet();
  const mac = ws.rowMac();
  const size = (await stat(path)).size;
  if (size > MAX_BUNDLE_BYTES) {
    throw new BundleError('malformed', `${basename(path)} is ${size} bytes, more than a bundle may be (${MAX_BUNDLE_BYTES}): not read`);
  }
  const bytes = new Uint8Array(await readFile(path));
  const bundle = parseBundle(bytes);
  const h = bundle.header;
  const hospital = h.hospital.name;
  if (h.keySet.fingerprint !== keySet.fingerprint) {
    throw new BundleError(
      'key-set',
      `the bundle from "${hospital}" was encrypted for key set ${shortFingerprint(h.keySet.fingerprint)}, but this workspace's key set is ` +
        `${shortFingerprint(keySet.fingerprint)}: ask the hospital to encrypt with this workspace's kit (homopai kit export)`,
    );
  }
  const signingKey = new Uint8Array(Buffer.from(h.hospital.signingKey, 'base64'));
  const keyId = keyIdOf(signingKey);
  if (options.acceptKey !== undefined && !namesKey(options.acceptKey, keyId)) {
    throw new BundleError(
      'hospital-key-changed',
      `the key to accept, ${options.acceptKey.slice(0, 80)}, is not the key this bundle from "${hospital}" is signed with ` +
        `(${shortFingerprint(keyId)}): refused`,
      shortFingerprint(keyId),
    );
  }
  const pinned = hospitalKey(ws.db, mac, hospital);
  // A pin that fails its tag is no pin, and neither is a pin gone from a hospital whose bundles the store or the
  // activity log records: whoever holds the file could otherwise swap or delete it, and have the next bundle
  // signed by any key under that name pinned as a first one. Either way the key is accepted only when named.
  const repin = pinned !== null && (pinned.problem !== null || pinned.keyId !== keyId);
  const earlierBundles = pinned === null ? Math.max(bundleCount(ws.db, hospital), bundleImportsLogged(ws, hospital)) : 0;
  const lost = earlierBundles > 0;
  if ((repin || lost) && options.acceptKey === undefined) {
    const offered = shortFingerprint(keyId);
    const how = `(homopai import-bundle --accept-key ${offered}, or "Accept new key" in the app)`;
    const accept = `confirm with the hospital, out of band, that ${offered} is its key, and only then accept it ${how}`;
    const why = lost
      ? `hospital "${hospital}" sent ${earlierBundles} bundle(s) before, but its pinned signing key is gone from the store ` +
        `(deleted outside HomoPAI): refused. A key is never pinned again silently; ${accept}`
      : pinned!.problem !== null
        ? `the signing key pinned for hospital "${hospital}" failed verification (${pinned!.problem}): refused. ` +
          `A key is never trusted on an unverified pin; ${accept}`
        : `hospital "${hospital}" is registered with signing key ${shortFingerprint(pinned!.keyId)} (since ${pinned!.registeredAt.slice(0, 10)}), ` +
          `but this bundle is signed with key ${offered}: refused. A changed key is never accepted silently; ` +
          `confirm with the hospital, out of band, what happened to its key, and only then accept ${offered} ${how}`;
    throw new BundleError('hospital-key-changed', why, offered);
  }
  // The bundle's own key is the trusted one by now: it hashes to the verified pin's key id (a key id is the key's
  // SHA-256), or the key holder named it. Either way the bundle must verify under it.
  if (!verifySignature(signingKey, bundle.signed, bundle.signature)) {
    throw new BundleError('signature', `the signature of hospital "${hospital}" does not verify: the bundle was altered or damaged after it was signed`);
  }
  const earlier = bundleById(ws.db, h.bundleId);
  if (earlier) {
    throw new BundleError(
      'replay',
      `bundle ${h.bundleId} from "${hospital}" was already imported (batch ${earlier.batchId}, ${earlier.importedAt.slice(0, 10)}): a bundle is imported once`,
    );
  }
  if (options.duplicates !== 'allow') {
    const pseudonyms = h.blocks.flatMap((b) => b.pseudonyms);
    const stored = pseudonyms.length > 0 ? storedPatientIds(ws.db, keySet.fingerprint, hospital, pseudonyms, -1) : new Set<string>();
    if (stored.size > 0) {
      throw new BundleError(
        'duplicates',
        `${stored.size} patient(s) of "${hospital}" in this bundle are already stored under this key set (the same pseudonyms): ` +
          'refused; import it anyway with --duplicates allow (or "Import anyway" in the app) if the hospital re-sent them on purpose',
      );
    }
  }
  await checkCiphertexts(ws, bundle, hooks);
  throwIfCancelled(hooks, 'the bundle import');

  const now = new Date().toISOString();
  const labeledRows = h.blocks.reduce((s, b) => s + b.labeled.filter(Boolean).length, 0);
  const columns = [...h.features.map((f) => f.name), ...(h.labeled ? [LABEL_COLUMN] : [])];
  const level = (await contextFor(keySet.preset)).topLevel;
  const batchId = await ws.transaction(async () => {
    const key = { hospital, keyId, publicKey: signingKey, registeredAt: now };
    if (!pinned) pinHospitalKey(ws.db, mac, key);
    else if (repin) replaceHospitalKey(ws.db, mac, key);
    const id = createBatch(ws.db, {
      keyFingerprint: keySet.fingerprint,
      origin: 'bundle',
      sourceName: `${hospital} bundle ${h.bundleId.slice(0, 8)}`,
      features: h.features,
      createdAt: now,
    });
    h.blocks.forEach((b, block) => {
      const patients = insertPatients(ws.db, id, block, b.pseudonyms.map((p, slot) => ({ hospital, patientId: p, labeled: b.labeled[slot]! })), now);
      bundle.ciphertexts[block]!.forEach((ct, j) =>
        insertCiphertext(
          ws.db,
          mac,
          { batchId: id, block, kind: j < h.features.length ? 'feature' : 'label', columnName: columns[j]!, slots: b.slots, level, bytes: ct },
          patients,
        ),
      );
    });
    finishBatch(ws.db, id, { rows: h.rows, dropped: h.dropped, labeledRows, sourceSha256: sha256Hex(bytes) });
    insertBundle(ws.db, { bundleId: h.bundleId, hospital, batchId: id, sha256: sha256Hex(bytes), createdAt: h.createdAt, importedAt: now });
    // In the import's transaction: a changed hospital key, or a batch, is never in the store without its entry.
    if (repin || lost) caller.audit('hospital-key', { hospital, from: replaced(pinned), to: shortFingerprint(keyId), bundleId: h.bundleId });
    caller.audit('import', {
      batchId: id,
      origin: 'bundle',
      file: basename(path).slice(0, 200),
      rows: h.rows,
      dropped: h.dropped,
      labeledRows,
      hospitals: 1,
      bundleId: h.bundleId,
      hospital,
    });
    return id;
  });
  return {
    batchId,
    bundleId: h.bundleId,
    file: basename(path),
    hospital,
    hospitalKey: shortFingerprint(keyId),
    newHospital: !pinned && !lost,
    replacedKey: repin || lost ? replaced(pinned) : null,
    rows: h.rows,
    labeledRows,
    blocks: h.blocks.length,
    features: h.features,
    createdAt: h.createdAt,
  };
}
