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

/** Loads and validates a ciphertext against the context's parameters; the caller owns (deletes) it. */
export function loadCiphertext(ctx: CkksContext, bytes: Uint8Array, what = 'a ciphertext'): Ciphertext {
  const ct = new ctx.seal.Ciphertext();
  try {
    sealCall(ctx.seal, `loading ${what}`, () => ct.loadFromArray(ctx.context, plainBytes(bytes)));
    return ct;
  } catch (e) {
    ct.delete();
    throw e;
  }
}
