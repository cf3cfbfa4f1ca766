import { createHmac, createPrivateKey, createPublicKey, hkdfSync, sign, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../common/files.ts';

/** PKCS#8 DER of an Ed25519 private key is this fixed prefix followed by its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** What a stored ciphertext row's tag covers: where it sits and what it is, plus the SHA-256 of its bytes. */
export type RowFields = readonly (string | number)[];

export class IntegrityKeyError extends Error {
  constructor() {
    super(
      'stored ciphertexts are authenticated with a key derived from the secret key in the vault: unlock the key set (or create one) before reading or writing them',
    );
    this.name = 'IntegrityKeyError';
  }
}

/**
 * HMAC-SHA-256 tags on stored ciphertext rows. A row's SHA-256 catches damage, but anyone who edits the
 * database can rewrite it too; the tag needs a key that lives only in the vault, so an edited, moved or
 * inserted row is caught before its bytes reach SEAL.
 *
 * The tag covers the row's fields and the SHA-256 already stored beside its bytes (hash-then-MAC): one pass
 * over a 1M-patient store instead of two, and as strong as long as SHA-256 is collision resistant.
 */
export class RowMac {
  /** The key set the key was derived from. */
  readonly fingerprint: string;
  private key: Buffer | null;

  private constructor(fingerprint: string, key: Buffer) {
    this.fingerprint = fingerprint;
    this.key = key;
  }

  /**
   * The key is derived from the key set's secret key (HKDF-SHA-256, one way): it is as safe as the vault,
   * needs no storage of its own, and survives a key backup and restore or a change of custody unchanged.
   */
  static fromSecretKey(secretKey: Uint8Array, fingerprint: string): RowMac {
    return new RowMac(fingerprint, RowMac.deriveKey(secretKey, fingerprint));
  }

  /** The 32-byte key itself, for sealing into the clinicians' credential; the caller zeroes it. */
  static deriveKey(secretKey: Uint8Array, fingerprint: string): Buffer {
    return Buffer.from(hkdfSync('sha256', secretKey, fingerprint, 'homopai.row-mac.v1', 32));
  }

  /** From a key deriveKey made (the clinicians' credential), copied: the caller zeroes its own. */
  static fromKey(key: Uint8Array, fingerprint: string): RowMac {
    if (key.byteLength !== 32) throw new IntegrityKeyError();
    return new RowMac(fingerprint, Buffer.from(key));
  }

  tag(table: string, fields: RowFields, sha256: string): Buffer {
    if (!this.key) throw new IntegrityKeyError();
    // JSON of an array of strings and numbers is unambiguous: no two field lists share an encoding.
    return createHmac('sha256', this.key).update(JSON.stringify([table, ...fields, sha256])).digest();
  }

  verify(table: string, fields: RowFields, sha256: string, tag: Uint8Array | null): boolean {
    // A row with no tag was inserted outside HomoPAI (every writer tags): it fails like a wrong tag.
    if (tag === null || tag.byteLength !== 32) return false;
    return timingSafeEqual(this.tag(table, fields, sha256), tag);
  }

  /**
   * Signs the activity log's anchor (audit/anchor.ts) with an Ed25519 key derived from this key (HKDF, one
   * way): whoever may write rows may vouch for the log's head, and anyone can check the signature with the
   * public half, which the anchor and every report carry.
   */
  signAnchor(message: Uint8Array): { publicKey: Buffer; signature: Buffer } {
    if (!this.key) throw new IntegrityKeyError();
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(hkdfSync('sha256', this.key, this.fingerprint, 'homopai.audit-anchor.v1', 32))]);
    try {
      const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
      return { publicKey, signature: sign(null, message, privateKey) };
    } finally {
      der.fill(0);
    }
  }

  /** Zeroes the key: the key holder locked. */
  destroy(): void {
    this.key?.fill(0);
    this.key = null;
  }
}

/**
 * For rows that steer a computation rather than hold a blob (models, runs, statistics, the release policy): the
 * tag covers their fields and the SHA-256 of their JSON. Returns why the row may not be used, or null.
 */
export function taggedRowProblem(mac: RowMac, table: string, fields: RowFields, json: string, tag: Uint8Array | null): string | null {
  if (tag === null) return 'it carries no integrity tag (written before HomoPAI tagged it, or inserted outside HomoPAI)';
  if (!mac.verify(table, fields, sha256Hex(json), tag)) return 'its integrity tag does not match (edited or inserted outside HomoPAI)';
  return null;
}

export function tagJsonRow(mac: RowMac, table: string, fields: RowFields, json: string): Buffer {
  return mac.tag(table, fields, sha256Hex(json));
}
