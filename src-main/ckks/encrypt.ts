import type { Encryptor } from 'node-seal/throws';
import type { CkksContext } from './context.ts';
import { sealCall } from './errors.ts';
import { loadPublicKey } from './keys.ts';

/**
 * Public-key encryption of column-packed values: one ciphertext holds one feature for up to N/2 patients,
 * so a patient's vitals cost a few bytes of ciphertext rather than a whole ciphertext per value. Needs no
 * secret key, so clinicians can import while the vault stays locked.
 */
export class ColumnEncryptor implements Disposable {
  private readonly ctx: CkksContext;
  private readonly encryptor: Encryptor;
  private readonly slots: Float64Array;

  constructor(ctx: CkksContext, publicKey: Uint8Array) {
    this.ctx = ctx;
    using pk = loadPublicKey(ctx, publicKey);
    this.encryptor = new ctx.seal.Encryptor(ctx.context, pk);
    this.slots = new Float64Array(ctx.slotCount);
  }

  encrypt(values: ArrayLike<number>): Uint8Array {
    const { seal, encoder, scale, slotCount } = this.ctx;
    if (values.length > slotCount) throw new RangeError(`${values.length} values exceed ${slotCount} slots`);
    // Unused slots are zero rather than left over from the previous call: slot sums must not see stale data.
    this.slots.fill(0);
    this.slots.set(values);
    return sealCall(seal, 'encrypting a column', () => {
      using pt = new seal.Plaintext();
      encoder.encode(this.slots, scale, pt);
      using ct = new seal.Ciphertext();
      this.encryptor.encrypt(pt, ct);
      return ct.saveToArray(seal.ComprModeType.zstd) as Uint8Array;
    });
  }

  [Symbol.dispose](): void {
    this.encryptor.delete();
  }
}
