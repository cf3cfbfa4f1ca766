import { describe, expect, it } from 'vitest';
import { CkksContext } from '../../src-main/ckks/context.ts';
import { ColumnDecryptor } from '../../src-main/ckks/decrypt.ts';
import { ColumnEncryptor } from '../../src-main/ckks/encrypt.ts';
import { deriveGaloisKeys } from '../../src-main/ckks/galois.ts';
import { EvaluationKeys, generateKeySet } from '../../src-main/ckks/keys.ts';
import { PRESETS } from '../../src-main/ckks/presets.ts';
import { slotSumSteps } from '../../src-main/ckks/rotate.ts';
import { maskedSquaredDeviations, maskedTotal } from '../../src-main/circuits/totals.ts';
import { EncryptedGradient } from '../../src-main/circuits/gradient.ts';
import { gaussian, mulberry32 } from '../../src-main/ml/random.ts';
import { evalPoly, fitSigmoidPoly } from '../../src-main/ml/sigmoid-poly.ts';

describe('encrypted aggregates and the encrypted gradient (standard preset)', async () => {
  const ctx = await CkksContext.create(PRESETS.standard);
  // A key set made without Galois keys, as existing ones were; the key holder derives them afterwards.
  const ks = generateKeySet(ctx);
  const galois = deriveGaloisKeys(ctx, ks.secretKey, slotSumSteps(ctx.slotCount));
  const rand = mulberry32(7);
  const means = [120, 80, 0.3];
  const sds = [15, 10, 0.5];
  // Two blocks, the second partly filled; every fifth patient is unlabeled.
  const sizes = [300, 120];
  const blocks = sizes.map((n, b) => ({
    x: means.map((m, j) => Float64Array.from({ length: n }, () => m + sds[j]! * gaussian(rand))),
    y: Float64Array.from({ length: n }, () => (rand() < 0.4 ? 1 : 0)),
    labeled: Float64Array.from({ length: ctx.slotCount }, (_, i) => (i < n && (i + b) % 5 !== 0 ? 1 : 0)),
    present: Float64Array.from({ length: ctx.slotCount }, (_, i) => (i < n ? 1 : 0)),
  }));
  using enc = new ColumnEncryptor(ctx, { mode: 'public-key', publicKey: ks.publicKey });
  const encrypted = blocks.map((b) => ({ features: b.x.map((c) => enc.encrypt(c)), label: enc.encrypt(b.y) }));

  it('sums every slot, so a decrypted total holds no per-patient term', () => {
    using keys = new EvaluationKeys(ctx, ks.relinKeys, galois);
    using dec = new ColumnDecryptor(ctx, ks.secretKey);
    const n = sizes[0]! + sizes[1]!;
    const column = (j: number): number[] => blocks.flatMap((b) => Array.from(b.x[j]!));
    const totals = dec.decrypt(maskedTotal(ctx, keys, encrypted.map((e) => e.features[0]!), blocks.map((b) => b.present)), ctx.slotCount);
    const expected = column(0).reduce((s, v) => s + v, 0);
    // ~1e-7 of CKKS noise per slot, over 4,096 slots, on a total of ~50,000.
    for (const v of totals) expect(Math.abs(v - expected)).toBeLessThan(1e-3);
    const mean = expected / n;
    const squares = dec.decrypt(
      maskedSquaredDeviations(ctx, keys, encrypted.map((e) => e.features[0]!), blocks.map((b) => b.present), mean),
      1,
    )[0]!;
    expect(Math.abs(squares - column(0).reduce((s, v) => s + (v - mean) ** 2, 0)) / squares).toBeLessThan(1e-7);
  });

  it('equals the plaintext gradient over labeled patients only, at any weights', () => {
    using keys = new EvaluationKeys(ctx, ks.relinKeys, galois);
    using dec = new ColumnDecryptor(ctx, ks.secretKey);
    const labeled = blocks.reduce((s, b) => s + b.labeled.reduce((a, m) => a + m, 0), 0);
    const sigmoid = fitSigmoidPoly(3, 8);
    using circuit = new EncryptedGradient(
      ctx,
      keys,
      encrypted.map((e, b) => ({ ...e, mask: blocks[b]!.labeled })),
      { mean: means, std: sds, sigmoid },
    );
    for (const w of [
      { weights: [0, 0, 0], bias: 0 },
      { weights: [0.8, -0.5, 0], bias: 0.3 },
    ]) {
      const reference = new Array<number>(means.length + 1).fill(0);
      for (const b of blocks) {
        b.y.forEach((y, i) => {
          if (!b.labeled[i]) return;
          const xs = means.map((m, j) => (b.x[j]![i]! - m) / sds[j]!);
          const r = evalPoly(sigmoid, w.bias + xs.reduce((s, v, j) => s + w.weights[j]! * v, 0)) - y;
          xs.forEach((v, j) => (reference[j]! += (r * v) / labeled));
          reference[means.length]! += r / labeled;
        });
      }
      const cts = circuit.evaluate(w);
      const g = circuit.gradientOf(cts.map((c) => dec.decrypt(c, 1)[0]!));
      [...g.weights, g.bias].forEach((v, j) => expect(Math.abs(v - reference[j]!)).toBeLessThan(1e-6));
      // Every slot holds the same aggregate (a sum over the labeled patients, up to CKKS noise).
      const slots = dec.decrypt(cts[0]!, ctx.slotCount);
      for (const v of slots) expect(Math.abs(v - slots[0]!) / labeled).toBeLessThan(1e-6);
    }
  });
});
