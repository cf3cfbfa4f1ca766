import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src-main/ckks/keys.ts';
import { type BundleHeader, BundleHeaderSchema, parseBundle, writeBundle } from '../../src-main/federation/bundle.ts';
import { BundleError, KitError } from '../../src-main/federation/errors.ts';
import { HospitalIdentity, verifySignature } from '../../src-main/federation/identity.ts';
import { kitJson, parseKit } from '../../src-main/federation/kit.ts';
import { KeyHolderDescent } from '../../src-main/circuits/gradient.ts';
import { linear, type LogisticWeights, trainGradientDescent } from '../../src-main/ml/logistic.ts';
import { gaussian, mulberry32 } from '../../src-main/ml/random.ts';
import { evalPoly, fitSigmoidPoly } from '../../src-main/ml/sigmoid-poly.ts';
import { VaultError } from '../../src-main/vault/vault.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

function header(identity: HospitalIdentity, ciphertexts: Uint8Array[][]): BundleHeader {
  return {
    format: 'homopai.bundle',
    bundleId: randomUUID(),
    createdAt: new Date().toISOString(),
    hospital: { name: identity.hospital, signingKey: Buffer.from(identity.publicKey).toString('base64') },
    keySet: { fingerprint: 'a'.repeat(64), preset: 'standard' },
    features: [{ name: 'sbp', unit: 'mmHg' }],
    labeled: true,
    rows: 3,
    dropped: 0,
    blocks: [{ slots: 3, pseudonyms: ['1', '2', '3'].map((c) => c.repeat(32)), labeled: [true, true, false], ciphertextBytes: ciphertexts[0]!.map((c) => c.length) }],
    notes: [],
  };
}

describe('hospital identity', () => {
  it('is created once, then reopened with stable pseudonyms; another name or passphrase is refused', async () => {
    using tmp = tempDir();
    const first = await HospitalIdentity.open(tmp.dir, 'H-NORTH', PASSPHRASE);
    expect(first.created).toBe(true);
    const again = await HospitalIdentity.open(tmp.dir, 'H-NORTH', PASSPHRASE);
    expect(again.created).toBe(false);
    expect(again.identity.keyId).toBe(first.identity.keyId);
    expect(again.identity.pseudonym('P-0001')).toBe(first.identity.pseudonym('P-0001'));
    expect(again.identity.pseudonym('P-0001')).toMatch(/^[0-9a-f]{32}$/);
    expect(again.identity.pseudonym('P-0002')).not.toBe(first.identity.pseudonym('P-0001'));
    using other = tempDir();
    const elsewhere = await HospitalIdentity.open(other.dir, 'H-NORTH', PASSPHRASE);
    expect(elsewhere.identity.pseudonym('P-0001')).not.toBe(first.identity.pseudonym('P-0001'));
    await expect(HospitalIdentity.open(tmp.dir, 'H-SOUTH', PASSPHRASE)).rejects.toThrow(/identity of hospital "H-NORTH"/);
    await expect(HospitalIdentity.open(tmp.dir, 'H-NORTH', 'not the passphrase')).rejects.toBeInstanceOf(VaultError);
    first.identity.lock();
    expect(() => first.identity.pseudonym('P-0001')).toThrow(/locked/);
  });
});

describe('bundle format', async () => {
  // Only the in-memory identity is used below: its folder may go once the identity is created.
  using tmp = tempDir();
  const { identity } = await HospitalIdentity.open(tmp.dir, 'H-NORTH', PASSPHRASE);
  const cts = [[randomBytes(300), randomBytes(280)]];
  const bytes = writeBundle(header(identity, cts), cts, (d) => identity.sign(d));
  const code = (b: Uint8Array): string => {
    try {
      const parsed = parseBundle(b);
      return verifySignature(identity.publicKey, parsed.signed, parsed.signature) ? 'ok' : 'signature';
    } catch (e) {
      expect(e).toBeInstanceOf(BundleError);
      return (e as BundleError).code;
    }
  };

  it('round-trips header and ciphertexts under a verifying signature', () => {
    const parsed = parseBundle(bytes);
    expect(parsed.header.hospital.name).toBe('H-NORTH');
    expect(parsed.ciphertexts[0]!.map((c) => Buffer.from(c))).toEqual(cts[0]!.map((c) => Buffer.from(c)));
    expect(code(bytes)).toBe('ok');
  });

  it('refuses every truncation, every flipped byte and any trailing byte', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (cut) => code(bytes.subarray(0, cut)) !== 'ok'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const altered = Uint8Array.from(bytes);
        altered[at]! ^= mask;
        return code(altered) !== 'ok';
      }),
    );
    expect(code(Buffer.concat([bytes, Buffer.from([0])]))).toBe('malformed');
  });

  it('names the refusal: magic, version, truncation', () => {
    expect(code(Buffer.from('not a bundle at all'))).toBe('not-a-bundle');
    const v2 = Uint8Array.from(bytes);
    new DataView(v2.buffer).setUint32(8, 2);
    expect(() => parseBundle(v2)).toThrow(/format version 2 is not supported/);
    expect(code(bytes.subarray(0, bytes.length - 10))).toBe('truncated');
  });

  it('names where the layout breaks: the header, a ciphertext, the signature', () => {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12);
    const at = 16 + headerLength;
    const message = (b: Uint8Array): string => {
      try {
        parseBundle(b);
        return 'parsed';
      } catch (e) {
        return `${(e as BundleError).code}: ${(e as Error).message}`;
      }
    };
    const withU32 = (offset: number, value: number): Uint8Array => {
      const b = Uint8Array.from(bytes);
      new DataView(b.buffer).setUint32(offset, value);
      return b;
    };
    const prefix = bytes.subarray(0, 12);
    expect(message(Buffer.concat([prefix, Buffer.from([0x10, 0, 0, 1])]))).toBe('malformed: the bundle declares a 268435457-byte header: damaged or not a bundle');
    // A header of exactly the largest size is allowed, and here cut short.
    expect(message(Buffer.concat([prefix, Buffer.from([0x10, 0, 0, 0])]))).toMatch(/^truncated: /);
    expect(message(bytes.subarray(0, 16 + 10))).toMatch(/^truncated: /);
    const notJson = Buffer.concat([prefix, Buffer.from([0, 0, 0, 3]), Buffer.from('{"a')]);
    expect(message(notJson)).toBe('malformed: the bundle header is not valid JSON: the bundle was damaged or altered');
    // JSON whose one string holds a byte that is no UTF-8: refused as such, not read as a replacement character.
    const badUtf8 = Buffer.concat([prefix, Buffer.from([0, 0, 0, 9]), Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(message(badUtf8)).toBe('malformed: the bundle header is not valid JSON: the bundle was damaged or altered');
    expect(message(withU32(at + 4 + cts[0]![0]!.length, 281))).toBe('malformed: ciphertext 2 of block 1 is 281 bytes, but the header says 280: damaged or altered');
    expect(message(withU32(bytes.length - 68, 63))).toBe('malformed: the signature is 63 bytes, not 64: damaged or altered');
    expect(message(Buffer.from('HPAIBND'))).toMatch(/^not-a-bundle: /);
  });

  it('refuses a header that contradicts itself, naming where', () => {
    const issues = (h: BundleHeader) => BundleHeaderSchema.safeParse(h).error?.issues.map((i) => [i.path, i.message]);
    const variant = (change: (h: BundleHeader) => void): BundleHeader => {
      const h = structuredClone(header(identity, cts));
      change(h);
      return h;
    };
    expect(issues(header(identity, cts))).toBeUndefined();
    expect(issues(variant((h) => h.blocks[0]!.labeled.pop()))).toEqual([[['blocks', 0], '3 slots but 3 pseudonyms and 2 label flags']]);
    expect(issues(variant((h) => h.blocks[0]!.ciphertextBytes.pop()))).toEqual([[['blocks', 0, 'ciphertextBytes'], '1 ciphertexts for 2 columns']]);
    expect(issues(variant((h) => (h.rows = 4)))).toEqual([[['rows'], '4 rows but the blocks hold 3']]);
    expect(issues(variant((h) => (h.blocks[0]!.pseudonyms[2] = h.blocks[0]!.pseudonyms[0]!)))).toEqual([[['blocks'], 'a patient pseudonym appears twice']]);
    expect(issues(variant((h) => (h.labeled = false)))).toEqual([[['blocks', 0, 'ciphertextBytes'], '2 ciphertexts for 1 columns']]);
    expect(
      issues(
        variant((h) => {
          h.features.push({ name: 'sbp', unit: 'mmHg' });
          h.blocks[0]!.ciphertextBytes.push(1);
        }),
      ),
    ).toEqual([[['features'], 'a feature name appears twice']]);
  });

  it('does not verify a signature against bytes that are no public key', () => {
    const parsed = parseBundle(bytes);
    expect(verifySignature(randomBytes(44), parsed.signed, parsed.signature)).toBe(false);
    expect(verifySignature(identity.publicKey, parsed.signed, parsed.signature)).toBe(true);
  });

  it('will not write a header that contradicts itself', () => {
    const bad = header(identity, cts);
    bad.blocks[0]!.pseudonyms.pop();
    expect(() => writeBundle(bad, cts, (d) => identity.sign(d))).toThrow(/3 slots but 2 pseudonyms/);
  });
});

describe('encryptor kit', () => {
  const publicKey = randomBytes(1000);
  const keySet = { fingerprint: fingerprintOf(publicKey), preset: 'standard', publicKey };

  it('carries the public key and parameters, and is refused when altered', () => {
    const text = kitJson(keySet);
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(
      ['createdAt', 'fingerprint', 'format', 'note', 'parameters', 'publicKey', 'shortFingerprint', 'version'],
    );
    const kit = parseKit(text);
    expect(kit.fingerprint).toBe(keySet.fingerprint);
    expect(kit.shortFingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
    expect(Buffer.from(kit.publicKey).equals(publicKey)).toBe(true);
    const json = JSON.parse(text);
    const otherKey = { ...json, publicKey: randomBytes(1000).toString('base64') };
    expect(() => parseKit(JSON.stringify(otherKey))).toThrow(KitError);
    const otherParams = { ...json, parameters: { ...json.parameters, coeffModulusBits: [60, 40, 40, 60] } };
    expect(() => parseKit(JSON.stringify(otherParams))).toThrow(/differ from this HomoPAI's "standard" preset/);
    expect(() => parseKit('{"format":"homopai.kit"')).toThrow(/not JSON/);
    expect(() => parseKit(JSON.stringify({ ...json, version: 2 }))).toThrow(KitError);
  });
});

describe("the key holder's plaintext step", () => {
  it('reproduces trainGradientDescent exactly when fed its gradients', () => {
    const rand = mulberry32(11);
    const n = 200;
    const x = Array.from({ length: 4 }, () => Float64Array.from({ length: n }, () => gaussian(rand)));
    const y = Float64Array.from({ length: n }, (_, i) => (x[0]![i]! - x[2]![i]! + gaussian(rand) > 0 ? 1 : 0));
    const poly = fitSigmoidPoly(3, 8);
    const sigmoid = (z: number): number => evalPoly(poly, z);
    const gradient = (w: LogisticWeights): LogisticWeights => {
      const r = linear(x, w).map((z, i) => sigmoid(z) - y[i]!);
      return { weights: x.map((c) => c.reduce((s, v, i) => s + v * r[i]!, 0) / n), bias: r.reduce((s, v) => s + v, 0) / n };
    };
    for (const nesterov of [false, true]) {
      const opts = { epochs: 12, lr: 0.8, l2: 0.05, nesterov };
      const descent = new KeyHolderDescent(4, opts);
      for (let e = 0; e < opts.epochs; e++) descent.step(gradient(descent.point));
      const reference = trainGradientDescent(x, y, { ...opts, sigmoid });
      descent.weights.weights.forEach((w, j) => expect(w).toBeCloseTo(reference.weights[j]!, 12));
      expect(descent.weights.bias).toBeCloseTo(reference.bias, 12);
    }
  });
});
