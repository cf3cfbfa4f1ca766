import { createHash } from 'node:crypto';
import type { GaloisKeys, PublicKey, RelinKeys, SecretKey } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';
import type { PresetName } from './presets.ts';
import { plainBytes } from './serialize.ts';

/** A freshly generated key set, serialized (SEAL zstd). `secretKey` must go straight into a vault. */
export interface KeySetBytes {
  readonly preset: PresetName;
  readonly fingerprint: string;
  readonly publicKey: Uint8Array;
  readonly relinKeys: Uint8Array;
  readonly galoisKeys: Uint8Array | null;
  readonly galoisSteps: readonly number[];
  readonly secretKey: Uint8Array;
}

/** The key-set identity: SHA-256 of the serialized public key exactly as stored and shipped. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** The short form people compare by phone or on paper: 4 groups of 4 hex digits. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 16).toUpperCase().match(/.{4}/g)!.join('-');
}

/** Galois keys cost ~4 MiB per rotation step at N=8192, so only the steps a computation uses are made. */
export function generateKeySet(ctx: CkksContext, galoisSteps: readonly number[] = []): KeySetBytes {
  const { seal } = ctx;
  const zstd = seal.ComprModeType.zstd;
  return sealCall(seal, 'generating keys', () => {
    using keygen = new seal.KeyGenerator(ctx.context);
    using sk = keygen.secretKey();
    // Serializable (seeded) keys halve the public and evaluation key sizes on disk.
    using pk = keygen.createPublicKeySerializable();
    using rk = keygen.createRelinKeysSerializable();
    const publicKey = pk.saveToArray(zstd) as Uint8Array;
    let galoisKeys: Uint8Array | null = null;
    if (galoisSteps.length > 0) {
      using gk = keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(galoisSteps));
      galoisKeys = gk.saveToArray(zstd) as Uint8Array;
    }
    return {
      preset: ctx.preset.name,
      fingerprint: fingerprintOf(publicKey),
      publicKey,
      relinKeys: rk.saveToArray(zstd) as Uint8Array,
      galoisKeys,
      galoisSteps: [...galoisSteps],
      secretKey: sk.saveToArray(zstd) as Uint8Array,
    };
  });
}

export function loadPublicKey(ctx: CkksContext, bytes: Uint8Array): PublicKey {
  const k = new ctx.seal.PublicKey();
  return loadInto(ctx, k, bytes, 'the public key');
}

export function loadSecretKey(ctx: CkksContext, bytes: Uint8Array): SecretKey {
  const k = new ctx.seal.SecretKey();
  return loadInto(ctx, k, bytes, 'the secret key');
}

export function loadRelinKeys(ctx: CkksContext, bytes: Uint8Array): RelinKeys {
  const k = new ctx.seal.RelinKeys();
  return loadInto(ctx, k, bytes, 'the relinearization keys');
}

export function loadGaloisKeys(ctx: CkksContext, bytes: Uint8Array): GaloisKeys {
  const k = new ctx.seal.GaloisKeys();
  return loadInto(ctx, k, bytes, 'the Galois keys');
}

interface Loadable {
  loadFromArray(ctx: CkksContext['context'], bytes: Uint8Array): void;
  delete(): void;
}

function loadInto<T extends Loadable>(ctx: CkksContext, key: T, bytes: Uint8Array, what: string): T {
  try {
    sealCall(ctx.seal, `loading ${what}`, () => key.loadFromArray(ctx.context, plainBytes(bytes)));
    return key;
  } catch (e) {
    key.delete();
    throw e;
  }
}

/** Keys an evaluator needs: relinearization (and Galois, where rotations are used). Never the secret key. */
export class EvaluationKeys implements Disposable {
  readonly relin: RelinKeys;
  readonly galois: GaloisKeys | null;
  constructor(ctx: CkksContext, relinKeys: Uint8Array, galoisKeys: Uint8Array | null) {
    this.relin = loadRelinKeys(ctx, relinKeys);
    try {
      this.galois = galoisKeys ? loadGaloisKeys(ctx, galoisKeys) : null;
    } catch (e) {
      this.relin.delete();
      throw e;
    }
  }
  [Symbol.dispose](): void {
    this.galois?.delete();
    this.relin.delete();
  }
}
