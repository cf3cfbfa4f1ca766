import { createHash } from 'node:crypto';
import type { KeySetInfo } from '../../src-preload/contract.ts';
import { generateKeySet, type KeySetBytes, shortFingerprint } from '../ckks/keys.ts';
import { presetByName } from '../ckks/presets.ts';
import { activeKeySet, insertKeySet, type KeySetRow, listKeySets } from '../store/keysets.ts';
import { runningRotation } from '../store/rotation.ts';
import type { Caller } from './caller.ts';
import { RowMac } from '../store/row-mac.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { Workspace } from '../store/workspace.ts';

/** The public half of freshly generated keys as a key set row's fields: a new key set's, or a rotation's target. */
export function generatedKeyFields(ks: KeySetBytes, custody: SecretKeyVault['custody']) {
  return {
    fingerprint: ks.fingerprint,
    publicKey: ks.publicKey,
    relinKeys: ks.relinKeys,
    galoisKeys: ks.galoisKeys,
    galoisSteps: [...ks.galoisSteps],
    custody,
    createdAt: new Date().toISOString(),
  };
}

export function keySetInfo(k: KeySetRow): KeySetInfo {
  return {
    fingerprint: k.fingerprint,
    shortFingerprint: shortFingerprint(k.fingerprint),
    preset: k.preset,
    polyModulusDegree: k.polyModulusDegree,
    coeffModulusBits: k.coeffModulusBits,
    scaleBits: k.scaleBits,
    levels: k.coeffModulusBits.length - 2,
    securityBits: 128,
    custody: k.custody,
    createdAt: k.createdAt,
    publicKeyBytes: k.publicKey.byteLength,
    relinKeyBytes: k.relinKeys.byteLength,
  };
}

/** Every key set of the workspace, newest first, with where it stands: active, a rotation's target, or retired. */
export function listKeySetInfos(ws: Workspace): (KeySetInfo & { state: 'active' | 'rotating' | 'retired' })[] {
  const rotation = runningRotation(ws.db);
  return listKeySets(ws.db).map((k) => ({ ...keySetInfo(k), state: k.active ? 'active' : k.fingerprint === rotation?.toKey ? 'rotating' : 'retired' }));
}

export class KeySetExistsError extends Error {
  constructor(existing: string) {
    super(
      `this workspace already has key set ${shortFingerprint(existing)}: a second one would orphan every batch encrypted ` +
        'under it. Unlock the existing key set, or move the data to a new one with homopai keys rotate',
    );
    this.name = 'KeySetExistsError';
  }
}

/**
 * Creates the workspace's key set: public, relinearization (and Galois) keys go into the store, the secret key
 * only into the vault (opened once the guard has passed). Refused when the workspace already has one. The secret key buffer is zeroed once the
 * vault has it and the workspace has the row key.
 */
export async function createKeySet(
  caller: Caller,
  presetName: string,
  openVault: () => SecretKeyVault | Promise<SecretKeyVault>,
  galoisSteps: readonly number[] = [],
  /** Where the clinicians' credential (the integrity key alone) is sealed, when it is made with the key set. */
  clinicians: SecretKeyVault | null = null,
): Promise<{ info: KeySetInfo; keygenMs: number; clinicians: boolean }> {
  const { ws } = caller;
  const existing = activeKeySet(ws.db);
  // Before the vault is opened: nobody is asked for a passphrase only to be refused.
  if (existing) throw new KeySetExistsError(existing.fingerprint);
  const vault = await openVault();
  const preset = presetByName(presetName);
  const ctx = await contextFor(preset.name);
  const t0 = performance.now();
  const ks = generateKeySet(ctx, galoisSteps);
  const keygenMs = performance.now() - t0;
  let mac: RowMac;
  try {
    await vault.store(ks.fingerprint, ks.secretKey);
    mac = RowMac.fromSecretKey(ks.secretKey, ks.fingerprint);
    if (clinicians) {
      const key = RowMac.deriveKey(ks.secretKey, ks.fingerprint);
      try {
        await clinicians.store(integrityKeyId(ks.fingerprint), key);
      } finally {
        key.fill(0);
      }
    }
  } finally {
    ks.secretKey.fill(0);
  }
  const row = {
    preset: preset.name,
    polyModulusDegree: preset.polyModulusDegree,
    coeffModulusBits: [...preset.coeffModulusBits],
    scaleBits: preset.scaleBits,
    ...generatedKeyFields(ks, vault.custody),
  };
  try {
    insertKeySet(ws.db, row);
  } catch (e) {
    mac.destroy();
    throw e;
  }
  ws.useRowMac(mac);
  const info = keySetInfo({ ...row, active: true });
  caller.audit('keygen', { key: 'key-set', keySet: info.fingerprint, preset: info.preset, custody: info.custody });
  if (clinicians) caller.audit('keygen', { key: 'clinician-credential', keySet: info.fingerprint, custody: clinicians.custody });
  return { info, keygenMs, clinicians: clinicians !== null };
}

/** Unlocks the active key set's secret key for the key holder's work, and records who did. */
export async function unlockKeySet(caller: Caller, vault: SecretKeyVault): Promise<KeyHolder> {
  const holder = await KeyHolder.unlock(caller.ws, vault);
  caller.audit('unlock', { keySet: holder.fingerprint, custody: vault.custody, holds: 'secret-key' });
  return holder;
}

/**
 * The vault id of the clinicians' credential: the integrity key (the one that tags rows and signs the log's
 * anchor), sealed apart from the secret key, under its own passphrase or keychain entry. Whoever holds it can import
 * and tag, never decrypt.
 */
export function integrityKeyId(keySetFingerprint: string): string {
  return createHash('sha256').update(`homopai.integrity-key\0${keySetFingerprint}`).digest('hex');
}

/** Seals the integrity key, derived from the unlocked secret key, as the clinicians' credential. */
export async function grantClinicians(caller: Caller, holder: KeyHolder, vault: SecretKeyVault): Promise<void> {
  const key = RowMac.deriveKey(holder.secretKey(), holder.fingerprint);
  try {
    await vault.store(integrityKeyId(holder.fingerprint), key);
  } finally {
    key.fill(0);
  }
  caller.audit('keygen', { key: 'clinician-credential', keySet: holder.fingerprint, custody: vault.custody });
}

/** Opens the clinicians' credential: the integrity key only. The secret key is neither read nor derived. */
export async function unlockIntegrity(ws: Workspace, vault: SecretKeyVault): Promise<void> {
  const k = ws.requireKeySet();
  const key = await vault.load(integrityKeyId(k.fingerprint));
  try {
    ws.useRowMac(RowMac.fromKey(key, k.fingerprint));
  } finally {
    key.fill(0);
  }
}

/** A clinician's session: the clinicians' credential opened and recorded. */
export async function unlockClinician(caller: Caller, vault: SecretKeyVault): Promise<void> {
  await unlockIntegrity(caller.ws, vault);
  caller.audit('unlock', { keySet: caller.ws.requireKeySet().fingerprint, custody: vault.custody, holds: 'integrity-key' });
}

/** An auditor's session: nothing secret is opened; the log records who read it. */
export function openAsAuditor(caller: Caller): void {
  caller.ws.dropRowMac();
  caller.audit('unlock', { keySet: caller.ws.requireKeySet().fingerprint, custody: null, holds: 'nothing' });
}

/**
 * Loads only the key that tags and verifies stored ciphertext rows, for work that must not hold the secret
 * key (import, encrypted prediction): the secret key is in memory just long enough to derive it.
 */
export async function loadRowKey(ws: Workspace, vault: SecretKeyVault): Promise<void> {
  const k = ws.requireKeySet();
  const secret = await vault.load(k.fingerprint);
  try {
    ws.useRowMac(RowMac.fromSecretKey(secret, k.fingerprint));
  } finally {
    secret.fill(0);
  }
}

/**
 * The unlocked secret key, in memory only, for the key holder's decryptions. `lock()` zeroes it; nothing
 * else keeps a copy.
 */
export class KeyHolder {
  readonly fingerprint: string;
  private secret: Uint8Array | null;

  private constructor(fingerprint: string, secret: Uint8Array) {
    this.fingerprint = fingerprint;
    this.secret = secret;
  }

  /** Unlocks the active key set; the workspace gets the row key derived from it (Workspace.dropRowMac). */
  static async unlock(ws: Workspace, vault: SecretKeyVault): Promise<KeyHolder> {
    const k = ws.requireKeySet();
    const holder = new KeyHolder(k.fingerprint, await vault.load(k.fingerprint));
    ws.useRowMac(holder.rowMac());
    return holder;
  }

  /** A fresh copy of the row key, for a workspace to own (and zero when it drops it). */
  rowMac(): RowMac {
    return RowMac.fromSecretKey(this.secretKey(), this.fingerprint);
  }

  get unlocked(): boolean {
    return this.secret !== null;
  }

  secretKey(): Uint8Array {
    if (!this.secret) throw new Error('the key set is locked: unlock it to decrypt');
    return this.secret;
  }

  lock(): void {
    this.secret?.fill(0);
    this.secret = null;
  }
}
