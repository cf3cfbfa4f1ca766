import type { Ciphertext, Plaintext } from 'node-seal/throws';
import type { CkksContext } from './context.ts';

/** Encodes one constant (or one value per slot) at `scale`, at the level of `ct`; the caller deletes it. */
export function encodeAt(ctx: CkksContext, ct: Ciphertext, value: number | Float64Array, scale: number): Plaintext {
  const { seal, encoder } = ctx;
  const pt = new seal.Plaintext();
  const values = typeof value === 'number' ? new Float64Array(ctx.slotCount).fill(value) : value;
  using pid = ct.parmsId();
  encoder.encode(values, scale, pt);
  ctx.evaluator.plainModSwitchToInplace(pt, pid);
  return pt;
}

/** A plaintext for one operation; disposing it deletes it unless a cache keeps it for the next block. */
export interface EncodedLoan extends Disposable {
  readonly pt: Plaintext;
}

export function owned(pt: Plaintext): EncodedLoan {
  return { pt, [Symbol.dispose]: () => pt.delete() };
}

function borrowed(pt: Plaintext): EncodedLoan {
  return { pt, [Symbol.dispose]: () => {} };
}

/**
 * A circuit's constants, each encoded once and lent out for every block after. A model's weights and bias are
 * the same in all 245 blocks of a million-patient prediction, and encoding one (an inverse FFT over the slots,
 * then an NTT per prime) costs about 0.85 ms at N = 8192, as much as the product it feeds. Keyed by level,
 * scale and value: ops.ts encodes each constant at the exact scale its product must land on, so the same
 * weight at another scale or level is another plaintext. Bounded, so a circuit whose constants do vary from
 * block to block cannot grow it without end.
 */
export class EncodedConstants implements Disposable {
  private readonly byKey = new Map<string, Plaintext>();
  private readonly limit: number;

  constructor(limit = 64) {
    this.limit = limit;
  }

  /** The encoded constant, lent for one use: disposing the loan frees it only if this cache did not keep it. */
  lend(ctx: CkksContext, ct: Ciphertext, value: number, scale: number): EncodedLoan {
    const key = `${ctx.levelOf(ct)}:${scale}:${value}`;
    const held = this.byKey.get(key);
    if (held) return borrowed(held);
    const pt = encodeAt(ctx, ct, value, scale);
    if (this.byKey.size >= this.limit) return owned(pt);
    this.byKey.set(key, pt);
    return borrowed(pt);
  }

  get size(): number {
    return this.byKey.size;
  }

  [Symbol.dispose](): void {
    for (const pt of this.byKey.values()) pt.delete();
    this.byKey.clear();
  }
}
