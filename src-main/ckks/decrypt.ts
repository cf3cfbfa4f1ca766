import type { Decryptor } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';
import { loadSecretKey } from './keys.ts';
import { loadCiphertext } from './serialize.ts';

/** The key holder's side. Only vault/ and the services it authorises construct one. */
export class ColumnDecryptor implements Disposable {
  private readonly ctx: CkksContext;
  private readonly decryptor: Decryptor;

  constructor(ctx: CkksContext, secretKey: Uint8Array) {
    this.ctx = ctx;
    using sk = loadSecretKey(ctx, secretKey);
    this.decryptor = new ctx.seal.Decryptor(ctx.context, sk);
  }

  decrypt(bytes: Uint8Array, count: number): Float64Array {
    const { seal, encoder } = this.ctx;
    return sealCall(seal, 'decrypting', () => {
      using ct = loadCiphertext(this.ctx, bytes);
      using pt = new seal.Plaintext();
      this.decryptor.decrypt(ct, pt);
      const slots = encoder.decodeFloat64(pt) as Float64Array;
      return Float64Array.from(slots.subarray(0, count));
    });
  }

  [Symbol.dispose](): void {
    this.decryptor.delete();
  }
}
