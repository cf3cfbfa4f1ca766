import type { Db } from './db.ts';

export interface KeySetRow {
  fingerprint: string;
  preset: string;
  polyModulusDegree: number;
  coeffModulusBits: number[];
  scaleBits: number;
  publicKey: Uint8Array;
  relinKeys: Uint8Array;
  galoisKeys: Uint8Array | null;
  galoisSteps: number[];
  custody: string;
  createdAt: string;
  active: boolean;
}

interface RawKeySet {
  fingerprint: string;
  preset: string;
  poly_modulus_degree: number;
  coeff_modulus_bits: string;
  scale_bits: number;
  public_key: Buffer;
  relin_keys: Buffer;
  galois_keys: Buffer | null;
  galois_steps: string;
  custody: string;
  created_at: string;
  active: number;
}

function fromRaw(r: RawKeySet): KeySetRow {
  return {
    fingerprint: r.fingerprint,
    preset: r.preset,
    polyModulusDegree: r.poly_modulus_degree,
    coeffModulusBits: JSON.parse(r.coeff_modulus_bits) as number[],
    scaleBits: r.scale_bits,
    publicKey: r.public_key,
    relinKeys: r.relin_keys,
    galoisKeys: r.galois_keys ? r.galois_keys : null,
    galoisSteps: JSON.parse(r.galois_steps) as number[],
    custody: r.custody,
    createdAt: r.created_at,
    active: r.active === 1,
  };
}

/**
 * Stores a key set's public material and makes it the workspace's active one, or (a rotation's target, until
 * it commits) stores it inactive.
 */
export function insertKeySet(db: Db, k: Omit<KeySetRow, 'active'>, active = true): void {
  db.transaction(() => {
    if (active) db.prepare('UPDATE key_sets SET active = 0').run();
    db.prepare(
      `INSERT INTO key_sets (fingerprint, preset, poly_modulus_degree, coeff_modulus_bits, scale_bits, public_key,
        relin_keys, galois_keys, galois_steps, custody, created_at, active)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      k.fingerprint,
      k.preset,
      k.polyModulusDegree,
      JSON.stringify(k.coeffModulusBits),
      k.scaleBits,
      k.publicKey,
      k.relinKeys,
      k.galoisKeys,
      JSON.stringify(k.galoisSteps),
      k.custody,
      k.createdAt,
      active ? 1 : 0,
    );
  })();
}

/** A key set by fingerprint, active or not (a rotation's target before it commits). */
export function keySetByFingerprint(db: Db, fingerprint: string): KeySetRow | null {
  const r = db.prepare('SELECT * FROM key_sets WHERE fingerprint = ?').get(fingerprint) as RawKeySet | undefined;
  return r ? fromRaw(r) : null;
}

/** Makes `fingerprint` the active key set (a rotation's commit). */
export function activateKeySet(db: Db, fingerprint: string): void {
  db.prepare('UPDATE key_sets SET active = (fingerprint = ?)').run(fingerprint);
}

/** Every key set the workspace has held, newest first: the active one, and those rotated away from. */
export function listKeySets(db: Db): KeySetRow[] {
  return (db.prepare('SELECT * FROM key_sets ORDER BY created_at DESC, rowid DESC').all() as RawKeySet[]).map(fromRaw);
}

export function activeKeySet(db: Db): KeySetRow | null {
  const r = db.prepare('SELECT * FROM key_sets WHERE active = 1').get() as RawKeySet | undefined;
  return r ? fromRaw(r) : null;
}
