import { constants as zlibConstants, zstdCompressSync, zstdDecompressSync, type ZstdOptions } from 'node:zlib';
import type { Ciphertext } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';

/**
 * SEAL's serialization with zstd, the compression done by Node's native zstd rather than the one compiled into
 * SEAL's WebAssembly: the bytes are SEAL's own format (its header, then one zstd frame of the uncompressed
 * serialization), which SEAL and loadCiphertext read alike, about 38% smaller than raw at these moduli. Measured
 * at N = 8192 on this project's machine: SEAL's zstd takes 3-8 ms per ciphertext, saving raw and compressing
 * natively under 1.5 ms; inflating natively 0.6 ms against SEAL's 1.3 ms.
 */
export function saveCiphertext(ctx: CkksContext, ct: { saveToArray(mode: unknown): unknown }): Uint8Array {
  return zstdFramed(sealCall(ctx.seal, 'serializing a ciphertext', () => ct.saveToArray(ctx.seal.ComprModeType.none) as Uint8Array));
}

/** A SEAL serialization without compression, recompressed: same header with the zstd mode and the new size. */
function zstdFramed(raw: Uint8Array): Uint8Array {
  const payload = raw.subarray(SEAL_HEADER_BYTES);
  // Level 1: a ciphertext's coefficients are random below each prime; what compresses is the unused top bits of
  // each 64-bit word, which level 1 finds as well as SEAL's default (level 3) within 4%, at half the time.
  const frame = zstdCompressSync(payload, { params: { [zlibConstants.ZSTD_c_compressionLevel]: 1 }, pledgedSrcSize: payload.length } as ZstdOptions);
  return withHeader(raw, frame, COMPR_ZSTD);
}

/** SEAL's header of `serialized` over another body: its compression mode and total size rewritten to match. */
function withHeader(serialized: Uint8Array, body: Uint8Array, mode: number): Uint8Array {
  const out = new Uint8Array(SEAL_HEADER_BYTES + body.length);
  out.set(serialized.subarray(0, SEAL_HEADER_BYTES));
  out.set(body, SEAL_HEADER_BYTES);
  out[5] = mode;
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  return out;
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
 * this context needs: SEAL's header, the declared total size, and for zstd the frame's declared content size,
 * which it returns (null when the bytes are not compressed).
 */
function checkCiphertextBytes(ctx: CkksContext, bytes: Uint8Array, what: string): number | null {
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
  if (mode === COMPR_NONE) return null;
  if (mode !== COMPR_ZSTD) refuse(`compression mode ${mode} (HomoPAI writes zstd or none)`);
  const size = zstdContentSize(bytes.subarray(SEAL_HEADER_BYTES));
  if (size === null) refuse('its zstd frame does not declare its size');
  if (size! > max) refuse(`it would inflate to ${size} bytes, more than a ciphertext of these parameters (${max})`);
  return size;
}

/**
 * The uncompressed SEAL serialization of checked bytes, inflated by Node's native zstd with the context's
 * largest ciphertext as a hard limit: a frame that lies about its size is caught here, bounded, and SEAL's own
 * inflater never runs on stored or received bytes.
 */
function inflated(ctx: CkksContext, bytes: Uint8Array, size: number | null, what: string): Uint8Array {
  if (size === null) return bytes;
  const max = maxCiphertextBytes(ctx);
  let payload: Buffer;
  try {
    payload = zstdDecompressSync(bytes.subarray(SEAL_HEADER_BYTES), { maxOutputLength: max });
  } catch (e) {
    throw new CiphertextBoundsError(what, `its zstd data does not inflate within ${max} bytes (${(e as Error).message})`);
  }
  if (payload.length !== size) throw new CiphertextBoundsError(what, `it inflates to ${payload.length} bytes, not the ${size} it declares`);
  return withHeader(bytes, payload, COMPR_NONE);
}

/** Loads and validates a ciphertext against the context's parameters; the caller owns (deletes) it. */
export function loadCiphertext(ctx: CkksContext, bytes: Uint8Array, what = 'a ciphertext'): Ciphertext {
  const raw = inflated(ctx, bytes, checkCiphertextBytes(ctx, bytes, what), what);
  const ct = new ctx.seal.Ciphertext();
  try {
    sealCall(ctx.seal, `loading ${what}`, () => ct.loadFromArray(ctx.context, plainBytes(raw)));
    return ct;
  } catch (e) {
    ct.delete();
    throw e;
  }
}
