export type PresetName = 'standard' | 'deep';

export interface Preset {
  readonly name: PresetName;
  readonly polyModulusDegree: number;
  /** Bit sizes of the coefficient-modulus primes, first (data) to last (key-switching special prime). */
  readonly coeffModulusBits: readonly number[];
  /** log2 of the CKKS encoding scale; equals the middle primes so each rescale restores it. */
  readonly scaleBits: number;
  readonly securityBits: 128;
  readonly summary: string;
}

/*
 * Depth budget (levels = middle primes), for the encrypted inference circuit of ml/encrypted-lr.ts:
 *   linear combination w.x + b            1 level
 *   explicit standard scaling (x-mu)/sd   1 level (0 when folded into the weights)
 *   sigmoid polynomial, odd terms c_k z^k computed as (c_k z) * z^(k-1):
 *     degree 3 -> 2 levels, degree 5 -> 3, degree 7 -> 4
 * The first prime must exceed the scale by the bits of the largest decrypted value; the special prime must be
 * at least as large as any data prime. All chains stay within SEAL's 128-bit bound (tc128: 218 bits at
 * N=8192, 438 bits at N=16384); SEALContext re-validates that when the context is built.
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  // 3 levels: folded scaling + linear + degree-3 sigmoid, nothing to spare. [60,40,40,60] (2 levels) fails
  // with "scale out of bounds"; 35-bit middle primes keep room for a third level within 218 bits.
  standard: {
    name: 'standard',
    polyModulusDegree: 8192,
    coeffModulusBits: [50, 35, 35, 35, 50],
    scaleBits: 35,
    securityBits: 128,
    summary:
      'N=8192, 128-bit security, 3 levels: fast (4,096 patients per ciphertext); folded scaling with a degree-3 sigmoid.',
  },
  // 8 levels at 2^40: explicit scaling and degree-5/7 sigmoids.
  deep: {
    name: 'deep',
    polyModulusDegree: 16384,
    coeffModulusBits: [50, 40, 40, 40, 40, 40, 40, 40, 40, 50],
    scaleBits: 40,
    securityBits: 128,
    summary:
      'N=16384, 128-bit security, 8 levels: about 4x slower; explicit scaling, degree 5 and 7 sigmoids.',
  },
};

export function presetByName(name: string): Preset {
  const p = (PRESETS as Record<string, Preset | undefined>)[name];
  if (!p) throw new Error(`unknown parameter preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return p;
}

/** Multiplicative levels available to data at the top of the chain. */
export function presetLevels(p: Preset): number {
  return p.coeffModulusBits.length - 2;
}

export function sigmoidDepth(degree: number): number {
  if (degree <= 1) return 0;
  return Math.ceil(Math.log2(degree - 1)) + 1;
}

export function inferenceDepth(sigmoidDegree: number, scaling: 'folded' | 'explicit'): number {
  return 1 + (scaling === 'explicit' ? 1 : 0) + sigmoidDepth(sigmoidDegree);
}
