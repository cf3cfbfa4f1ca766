import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';
import { loadSecretKey } from './keys.ts';

/**
 * Galois keys for `steps`, derived by the key holder from the key set's existing secret key: the public key,
 * relinearization keys, fingerprint and every stored ciphertext stay valid (regenerating the key set would
 * orphan them all). Serialized seeded (SEAL zstd), as generateKeySet stores its keys.
 */
export function deriveGaloisKeys(ctx: CkksContext, secretKey: Uint8Array, steps: readonly number[]): Uint8Array {
  const { seal } = ctx;
  return sealCall(seal, 'deriving Galois keys', () => {
    using sk = loadSecretKey(ctx, secretKey);
    using keygen = new seal.KeyGenerator(ctx.context, sk);
    using gk = keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(steps));
    return gk.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
  });
}
