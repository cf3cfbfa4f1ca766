import { zstdDecompressSync } from 'node:zlib';
import type { Ciphertext } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';

/** SEAL's own serialization with its built-in zstd: about 38% smaller than raw at these moduli. */
export function saveCiphertext(ctx: CkksContext, ct: Ciphertext): Uint8Array {
  return sealCall(ctx.seal, 'serializing a ciphertext', () =>
    ct.saveToArray(ctx.seal.ComprModeType.zstd) as Uint8Array,
  );
}

/**
 * node-seal's embind bindings accept only a plain Uint8Array, not a subclass such as the Buffers that SQLite
 * and node:crypto return: pass a view over the same memory.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes that are not a ciphertext of this context's size, refused before SEAL inflates or allocates anything. */
export class CiphertextBoundsError extends Error {
  constructor(what: string, problem: string) {
    super(`${what} is not a ciphertext of these parameters: ${problem}`);
    this.name = 'CiphertextBoundsError';
  }
}

// SEAL's serialization header: magic 0xA15E, header size 16, version 4.x, compression mode, total size (u64).
const SEAL_MAGIC = 0xa15e;
const SEAL_HEADER_BYTES = 16;
const COMPR_NONE = 0;
const COMPR_ZSTD = 2;
const ZSTD_MAGIC = 0xfd2fb528;
// Parameter ids, flags and counts a SEAL ciphertext stores beside its coefficients (97 bytes here); generous.
const METADATA_SLACK = 4096;

/**
 * The largest a serialized ciphertext of this context can be once inflated: two polynomials (a fresh or
 * relinearized ciphertext) of N coefficients in every data prime, 8 bytes each, plus its metadata.
 */
export function maxCiphertextBytes(ctx: CkksContext): number {
  const primes = ctx.preset.coeffModulusBits.length - 1;
  return 2 * ctx.preset.polyModulusDegree * primes * 8 + METADATA_SLACK;
}

/** The zstd frame's declared content size, or null when the frame does not declare one (RFC 8878, 3.1.1.1). */
function zstdContentSize(frame: Uint8Array): number | null {
  if (frame.length < 6) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return null;
  const descriptor = frame[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : [1, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  if (frame.length < at + fcsBytes) return null;
  if (fcsBytes === 1) return view.getUint8(at);
  if (fcsBytes === 2) return view.getUint16(at, true) + 256;
  if (fcsBytes === 4) return view.getUint32(at, true);
  return Number(view.getBigUint64(at, true));
}

/**
 * Checks, from the bytes alone, that a serialized ciphertext cannot make SEAL allocate more than a ciphertext of
 * this context needs: SEAL's header, the declared total size, and for zstd the frame's declared content size.
 * `inflate` (untrusted bytes: a hospital's bundle) also decompresses it with that size as a hard limit, so a
 * frame that lies about its size is caught in Node, bounded, before SEAL's own inflater sees it.
 */
export function checkCiphertextBytes(ctx: CkksContext, bytes: Uint8Array, what: string, inflate = false): void {
  const max = maxCiphertextBytes(ctx);
  const refuse = (problem: string): never => {
    throw new CiphertextBoundsError(what, problem);
  };
  if (bytes.length < SEAL_HEADER_BYTES) refuse(`${bytes.length} bytes is shorter than SEAL's header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== SEAL_MAGIC || bytes[2] !== SEAL_HEADER_BYTES) refuse('no SEAL header');
  if (bytes[3] !== 4) refuse(`SEAL serialization version ${bytes[3]}, not 4`);
  const declared = Number(view.getBigUint64(8, true));
  if (declared !== bytes.length) refuse(`its header declares ${declared} bytes, but it has ${bytes.length}`);
  if (bytes.length > max + SEAL_HEADER_BYTES) refuse(`${bytes.length} bytes, more than a ciphertext of these parameters (${max})`);
  const mode = bytes[5];
  if (mode === COMPR_NONE) return;
  if (mode !== COMPR_ZSTD) refuse(`compression mode ${mode} (HomoPAI writes zstd or none)`);
  const frame = bytes.subarray(SEAL_HEADER_BYTES);
  const size = zstdContentSize(frame);
  if (size === null) refuse('its zstd frame does not declare its size');
  if (size! > max) refuse(`it would inflate to ${size} bytes, more than a ciphertext of these parameters (${max})`);
  if (!inflate) return;
  let inflated: Buffer;
  try {
    inflated = zstdDecompressSync(frame, { maxOutputLength: max });
  } catch (e) {
    return refuse(`its zstd data does not inflate within ${max} bytes (${(e as Error).message})`);
  }
  if (inflated.length !== size) refuse(`it inflates to ${inflated.length} bytes, not the ${size} it declares`);
}

/** Loads and validates a ciphertext against the context's parameters; the caller owns (deletes) it. */
export function loadCiphertext(ctx: CkksContext, bytes: Uint8Array, what = 'a ciphertext'): Ciphertext {
  checkCiphertextBytes(ctx, bytes, what);
  const ct = new ctx.seal.Ciphertext();
  try {
    sealCall(ctx.seal, `loading ${what}`, () => ct.loadFromArray(ctx.context, plainBytes(bytes)));
    return ct;
  } catch (e) {
    ct.delete();
    throw e;
  }
}
