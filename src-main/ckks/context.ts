import type { CKKSEncoder, Ciphertext, Evaluator, ParmsIdType, SEALContext } from 'node-seal/throws';
import { sealCall } from './errors.ts';
import { type Preset, presetLevels } from './presets.ts';
import { loadSeal, type Seal } from './seal.ts';

/**
 * The public half of CKKS: parameters, encoder and evaluator. Holds no key. One per thread and preset;
 * dispose it when the thread is done with the preset.
 */
export class CkksContext implements Disposable {
  readonly seal: Seal;
  readonly preset: Preset;
  readonly context: SEALContext;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  readonly scale: number;
  readonly slotCount: number;
  /** Primes of the chain, indexed by the level (chain index) at which rescaling divides by them. */
  private readonly primeAtLevel: number[];

  private constructor(seal: Seal, preset: Preset) {
    this.seal = seal;
    this.preset = preset;
    this.context = sealCall(seal, `building the "${preset.name}" CKKS context`, () => {
      using parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
      parms.setPolyModulusDegree(preset.polyModulusDegree);
      using chain = seal.CoeffModulus.Create(preset.polyModulusDegree, Int32Array.from(preset.coeffModulusBits));
      parms.setCoeffModulus(chain);
      return new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
    });
    if (!this.context.parametersSet()) {
      this.context.delete();
      throw new Error(`preset "${preset.name}" is not valid at 128-bit security`);
    }
    this.encoder = new seal.CKKSEncoder(this.context);
    this.evaluator = new seal.Evaluator(this.context);
    this.scale = 2 ** preset.scaleBits;
    this.slotCount = this.encoder.slotCount();
    this.primeAtLevel = this.readPrimes();
  }

  static async create(preset: Preset): Promise<CkksContext> {
    const { seal } = await loadSeal();
    return new CkksContext(seal, preset);
  }

  private readPrimes(): number[] {
    const primes: number[] = [];
    using first = this.context.firstContextData();
    using parms = first.parms();
    using chain = parms.coeffModulus();
    for (let i = 0; i < chain.size(); i++) {
      using m = chain.get(i)!;
      primes.push(Number(m.value()));
    }
    return primes;
  }

  /** Multiplicative levels a fresh ciphertext has left. */
  get topLevel(): number {
    return presetLevels(this.preset);
  }

  levelOf(ct: Ciphertext): number {
    using pid = ct.parmsId();
    using data = this.context.getContextData(pid);
    return data.chainIndex();
  }

  /** The prime a rescale at `level` divides by. */
  primeAt(level: number): number {
    const p = this.primeAtLevel[level];
    if (p === undefined) throw new Error(`no prime at level ${level}`);
    return p;
  }

  /**
   * The lowest level whose modulus holds a value of up to `magnitude` (scale included) with a factor 4 to spare:
   * one bit for the sign of the centred representation, one for the noise. Never above `from`.
   */
  lowestLevelHolding(magnitude: number, from: number): number {
    let bits = 0;
    for (let level = 0; level < from; level++) {
      bits += Math.log2(this.primeAt(level));
      if (bits > Math.log2(magnitude) + 2) return level;
    }
    return from;
  }

  /** parms_id of the given level; caller deletes it. */
  parmsIdAt(level: number): ParmsIdType {
    let data = this.context.firstContextData();
    while (data.chainIndex() > level) {
      const next = data.nextContextData();
      data.delete();
      data = next;
    }
    const pid = data.parmsId();
    data.delete();
    return pid;
  }

  [Symbol.dispose](): void {
    this.evaluator.delete();
    this.encoder.delete();
    this.context.delete();
  }
}
