import { describe, expect, it } from 'vitest';
import { CkksContext } from '../../src-main/ckks/context.ts';
import { ColumnDecryptor } from '../../src-main/ckks/decrypt.ts';
import { ColumnEncryptor } from '../../src-main/ckks/encrypt.ts';
import { EvaluationKeys, generateKeySet } from '../../src-main/ckks/keys.ts';
import { PRESETS } from '../../src-main/ckks/presets.ts';
import { wasmHeapBytes } from '../../src-main/ckks/seal.ts';
import { evaluateLogistic } from '../../src-main/circuits/inference.ts';
import { fitSigmoidPoly } from '../../src-main/ml/sigmoid-poly.ts';

describe('WebAssembly memory discipline', () => {
  it('keeps the WASM heap flat over 100 encrypt -> evaluate -> decrypt runs', async () => {
    using ctx = await CkksContext.create(PRESETS.standard);
    const keys = generateKeySet(ctx);
    const poly = fitSigmoidPoly(3, 8);
    const plan = {
      weights: [0.8, -1.1, 0.5, 1.3],
      bias: -0.2,
      mean: [37, 120, 80, 16],
      std: [0.8, 15, 10, 4],
      sigmoid: { interval: poly.interval, coefficients: poly.coefficients },
      scaling: 'folded' as const,
      mode: 'polynomial' as const,
    };
    const n = 512;
    const columns = plan.mean.map((m, j) => Float64Array.from({ length: n }, (_, i) => m + plan.std[j]! * Math.sin(i + j)));
    const once = (): number => {
      using enc = new ColumnEncryptor(ctx, { mode: 'public-key', publicKey: keys.publicKey });
      using evalKeys = new EvaluationKeys(ctx, keys.relinKeys, null);
      using dec = new ColumnDecryptor(ctx, keys.secretKey);
      const out = evaluateLogistic(ctx, evalKeys, columns.map((c) => enc.encrypt(c)), plan);
      return dec.decrypt(out.bytes, n)[0]!;
    };
    // Warm-up: SEAL's memory pool grows to its working size on the first runs and then reuses it.
    for (let i = 0; i < 5; i++) once();
    const warm = await wasmHeapBytes();
    let last = 0;
    for (let i = 0; i < 100; i++) last = once();
    const after = await wasmHeapBytes();
    expect(Number.isFinite(last)).toBe(true);
    // WebAssembly memory never shrinks, so any leak of a ciphertext (~0.5 MiB each) would show as growth.
    expect(after).toBeLessThanOrEqual(warm * 1.05);
  });
});
