import { describe, expect, it } from 'vitest';
import { CkksContext } from '../../src-main/ckks/context.ts';
import { SealError } from '../../src-main/ckks/errors.ts';
import { fingerprintOf, generateKeySet, shortFingerprint } from '../../src-main/ckks/keys.ts';
import { inferenceDepth, PRESETS, presetLevels, sigmoidDepth } from '../../src-main/ckks/presets.ts';
import { CiphertextBoundsError, loadCiphertext } from '../../src-main/ckks/serialize.ts';
import { checkDepth, DepthError } from '../../src-main/circuits/inference.ts';

describe('CKKS presets and engine', () => {
  it('validates every preset at 128-bit security with the documented depth', async () => {
    for (const preset of Object.values(PRESETS)) {
      using ctx = await CkksContext.create(preset);
      expect(ctx.slotCount).toBe(preset.polyModulusDegree / 2);
      expect(ctx.topLevel).toBe(presetLevels(preset));
    }
    expect(presetLevels(PRESETS.standard)).toBe(inferenceDepth(3, 'folded'));
    expect(presetLevels(PRESETS.deep)).toBeGreaterThanOrEqual(inferenceDepth(7, 'explicit'));
    expect([1, 3, 5, 7].map(sigmoidDepth)).toEqual([0, 2, 3, 4]);
  });

  it('refuses a circuit deeper than the preset, naming what would fit', async () => {
    using ctx = await CkksContext.create(PRESETS.standard);
    const plan = { weights: [1], bias: 0, mean: [0], std: [1], sigmoid: { interval: 8, coefficients: [0.5, 0.1, 0, -0.001] }, scaling: 'explicit' as const, mode: 'polynomial' as const };
    expect(() => checkDepth(ctx, plan)).toThrow(DepthError);
    expect(() => checkDepth(ctx, plan)).toThrow(/needs 4 CKKS levels; preset "standard" has 3/);
    // The same model in exact mode needs the logit only: two levels with explicit scaling.
    expect(() => checkDepth(ctx, { ...plan, mode: 'exact' })).not.toThrow();
  });

  it('turns a SEAL exception into a readable typed error', async () => {
    using ctx = await CkksContext.create(PRESETS.standard);
    const err = (() => {
      try {
        // A well-formed SEAL header (uncompressed, its size right) in front of bytes that are no ciphertext.
        const bytes = new Uint8Array(64).fill(7);
        const view = new DataView(bytes.buffer);
        view.setUint16(0, 0xa15e, true);
        bytes.set([16, 4, 1, 0, 0, 0], 2);
        view.setBigUint64(8, 64n, true);
        loadCiphertext(ctx, bytes, 'batch 3 column spo2');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(SealError);
    expect((err as SealError).message).toMatch(/^loading batch 3 column spo2 failed in SEAL \(std::\w+\): \S+/);
  });

  it('refuses bytes that are no SEAL ciphertext of these parameters before SEAL reads them', async () => {
    using ctx = await CkksContext.create(PRESETS.standard);
    expect(() => loadCiphertext(ctx, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'batch 3 column spo2')).toThrow(CiphertextBoundsError);
    expect(() => loadCiphertext(ctx, new Uint8Array(32), 'x')).toThrow(/no SEAL header/);
  });

  it('fingerprints a key set by its serialized public key', async () => {
    using ctx = await CkksContext.create(PRESETS.standard);
    const a = generateKeySet(ctx);
    const b = generateKeySet(ctx);
    expect(a.fingerprint).toBe(fingerprintOf(a.publicKey));
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(shortFingerprint(a.fingerprint)).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
    expect(a.galoisKeys).toBeNull();
  });
});

/** A standard-preset context with fresh keys: an encryptor, the evaluator's keys and a decryptor, freed together. */
async function engine() {
  const { ColumnEncryptor } = await import('../../src-main/ckks/encrypt.ts');
  const { ColumnDecryptor } = await import('../../src-main/ckks/decrypt.ts');
  const { EvaluationKeys } = await import('../../src-main/ckks/keys.ts');
  const ctx = await CkksContext.create(PRESETS.standard);
  const keys = generateKeySet(ctx);
  const enc = new ColumnEncryptor(ctx, { mode: 'public-key', publicKey: keys.publicKey });
  const evalKeys = new EvaluationKeys(ctx, keys.relinKeys, null);
  const dec = new ColumnDecryptor(ctx, keys.secretKey);
  return {
    ctx,
    enc,
    evalKeys,
    dec,
    [Symbol.dispose]: () => {
      dec[Symbol.dispose]();
      evalKeys[Symbol.dispose]();
      enc[Symbol.dispose]();
      ctx[Symbol.dispose]();
    },
  };
}

describe('encrypted inference with a zero weight', () => {
  it('skips the zero term instead of failing on a transparent product', async () => {
    const { evaluateLogistic } = await import('../../src-main/circuits/inference.ts');
    using e = await engine();
    const { ctx, enc, evalKeys, dec } = e;
    const coefficients = [0.5, 0.15, 0, -0.0016];
    const plan = { weights: [0, 1.2], bias: 0.1, mean: [0, 0], std: [1, 1], sigmoid: { interval: 8, coefficients }, scaling: 'folded' as const, mode: 'polynomial' as const };
    const out = evaluateLogistic(ctx, evalKeys, [enc.encrypt([5, 6]), enc.encrypt([1, -2])], plan);
    const p = dec.decrypt(out.bytes, 2);
    [1, -2].forEach((x, i) => {
      const z = 1.2 * x + 0.1;
      expect(p[i]).toBeCloseTo(0.5 + 0.15 * z - 0.0016 * z ** 3, 5);
    });

    // Exact mode: the logit itself, one level down, to ~1e-6 of w.x + b, over a range the polynomial could not cover.
    const wide = [-9, -2.5, 0, 3.7, 11];
    const exact = evaluateLogistic(ctx, evalKeys, [enc.encrypt(wide.map(() => 0)), enc.encrypt(wide)], { ...plan, mode: 'exact' });
    expect(exact.level).toBeLessThan(ctx.topLevel);
    const z = dec.decrypt(exact.bytes, wide.length);
    wide.forEach((x, i) => expect(Math.abs(z[i]! - (1.2 * x + 0.1))).toBeLessThan(1e-5));
  });
});

describe('the exact-mode logit keeps the primes its largest value needs, no more', () => {
  it('drops to the level that still holds the logit of the largest encryptable inputs, and decrypts them exactly', async () => {
    const { evaluateLogistic } = await import('../../src-main/circuits/inference.ts');
    const { MAX_ENCRYPTABLE } = await import('../../src-main/ckks/encrypt.ts');
    using e = await engine();
    const { ctx, enc, evalKeys, dec } = e;
    const sigmoid = { interval: 8, coefficients: [0.5, 0.15, 0, -0.0016] };
    const plan = { weights: [1.2, -0.7], bias: 0.1, mean: [3, -2], std: [2, 0.5], sigmoid, scaling: 'folded' as const, mode: 'exact' as const };
    const a = [MAX_ENCRYPTABLE, -MAX_ENCRYPTABLE, 0, 1.5];
    const b = [MAX_ENCRYPTABLE, MAX_ENCRYPTABLE, -MAX_ENCRYPTABLE, -0.25];
    const logit = (i: number): number => (1.2 * (a[i]! - 3)) / 2 + (-0.7 * (b[i]! + 2)) / 0.5 + 0.1;
    const out = evaluateLogistic(ctx, evalKeys, [enc.encrypt(a), enc.encrypt(b)], plan);
    // |z| reaches ~2e9 here: at 2^35 that needs ~66 bits, which the first two primes (50 + 35) hold and the
    // first alone (50) does not; the others are dropped.
    expect(out.level).toBe(1);
    const z = dec.decrypt(out.bytes, a.length);
    a.forEach((_, i) => expect(Math.abs(z[i]! - logit(i)), `slot ${i}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(logit(i)))));

    // Weights that could make |z| too large for two primes keep the third.
    const steep = evaluateLogistic(ctx, evalKeys, [enc.encrypt(a), enc.encrypt(b)], { ...plan, weights: [1e6, 1], std: [1e-3, 1] });
    expect(steep.level).toBe(2);
  });
});

describe('encoded constants kept across blocks', () => {
  it('give the very same results as constants encoded per block, encoding each constant once', async () => {
    const { EncodedConstants } = await import('../../src-main/ckks/encode.ts');
    const { evaluateLogistic } = await import('../../src-main/circuits/inference.ts');
    using e = await engine();
    const { ctx, enc, evalKeys, dec } = e;
    const coefficients = [0.5, 0.15, 0, -0.0016];
    const base = { weights: [0.7, -1.2, 0.3], bias: 0.1, mean: [1, 2, 3], std: [2, 0.5, 1], sigmoid: { interval: 8, coefficients } };
    const block = (seed: number): Uint8Array[] => [0, 1, 2].map((j) => enc.encrypt([seed + j, seed - j, seed * j]));
    // Explicit scaling under the polynomial needs the deep preset's fourth level; the other three fit here.
    const plans = [
      { scaling: 'folded', mode: 'exact' },
      { scaling: 'folded', mode: 'polynomial' },
      { scaling: 'explicit', mode: 'exact' },
    ] as const;
    for (const { scaling, mode } of plans) {
      const plan = { ...base, scaling, mode };
      using constants = new EncodedConstants();
      const sizes: number[] = [];
      for (const seed of [1, 2, 3]) {
        const features = block(seed);
        const cached = dec.decrypt(evaluateLogistic(ctx, evalKeys, features, plan, constants).bytes, 3);
        const fresh = dec.decrypt(evaluateLogistic(ctx, evalKeys, features, plan).bytes, 3);
        // The same plaintexts in the same products: equal to the last bits CKKS keeps.
        cached.forEach((v, i) => expect(Math.abs(v - fresh[i]!), `${scaling} ${mode}`).toBeLessThan(1e-6));
        sizes.push(constants.size);
      }
      // Encoded in the first block only: three weights and the bias, plus three means and three 1/sd when the
      // scaling is explicit, plus the polynomial's three non-zero terms (c1 t, c3 t * t^2, c0).
      const expected = 4 + (scaling === 'explicit' ? 6 : 0) + (mode === 'polynomial' ? 3 : 0);
      expect(sizes, `${scaling} ${mode}`).toEqual([expected, expected, expected]);
    }
  });
});
