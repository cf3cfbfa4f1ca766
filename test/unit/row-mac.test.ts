import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { IntegrityKeyError, RowMac, tagJsonRow, taggedRowProblem } from '../../src-main/store/row-mac.ts';

// The row tags as the attacker meets them: whoever edits the database file can write any tag bytes, or none,
// and only a key derived from the vault's secret key makes a tag that verifies. (Destroying the key on lock:
// test/adversarial/key-hygiene.test.ts.)
describe('row tags', () => {
  const secret = randomBytes(64);
  const fields = ['batch', 3, 'block', 0] as const;
  const sha = 'a'.repeat(64);

  it('derives one 32-byte key per key set, the same after a restore, another for another key set', () => {
    const key = RowMac.deriveKey(secret, 'fp-1');
    expect(key.byteLength).toBe(32);
    expect(RowMac.deriveKey(Buffer.from(secret), 'fp-1').equals(key)).toBe(true);
    expect(RowMac.deriveKey(secret, 'fp-2').equals(key)).toBe(false);
    const restored = RowMac.fromKey(key, 'fp-1');
    expect(restored.tag('t', fields, sha).equals(RowMac.fromSecretKey(secret, 'fp-1').tag('t', fields, sha))).toBe(true);
  });

  it('accepts only a 32-byte key from a credential', () => {
    for (const bytes of [0, 16, 31, 33, 64]) {
      expect(() => RowMac.fromKey(randomBytes(bytes), 'fp-1')).toThrow(IntegrityKeyError);
    }
  });

  it('copies the credential key: zeroing the caller’s copy leaves the tags unchanged', () => {
    const key = RowMac.deriveKey(secret, 'fp-1');
    const mac = RowMac.fromKey(key, 'fp-1');
    const before = mac.tag('t', fields, sha);
    key.fill(0);
    expect(mac.tag('t', fields, sha).equals(before)).toBe(true);
  });

  it('verifies its own tag and nothing a forger can write without the key', () => {
    const mac = RowMac.fromSecretKey(secret, 'fp-1');
    const tag = mac.tag('ciphertexts', fields, sha);
    expect(mac.verify('ciphertexts', fields, sha, tag)).toBe(true);
    expect(mac.verify('ciphertexts', fields, sha, null)).toBe(false);
    expect(mac.verify('ciphertexts', fields, sha, tag.subarray(0, 31))).toBe(false);
    expect(mac.verify('ciphertexts', fields, sha, Buffer.concat([tag, Buffer.from([0])]))).toBe(false);
    expect(mac.verify('ciphertexts', fields, sha, Buffer.alloc(32))).toBe(false);
    // The tag binds the table, every field and the content hash.
    expect(mac.verify('prediction_blocks', fields, sha, tag)).toBe(false);
    expect(mac.verify('ciphertexts', ['batch', 4, 'block', 0], sha, tag)).toBe(false);
    expect(mac.verify('ciphertexts', fields, 'b'.repeat(64), tag)).toBe(false);
    expect(RowMac.fromSecretKey(randomBytes(64), 'fp-1').verify('ciphertexts', fields, sha, tag)).toBe(false);
  });

  it('names why a steering row may not be used', () => {
    const mac = RowMac.fromSecretKey(secret, 'fp-1');
    const json = '{"k":5}';
    const tag = tagJsonRow(mac, 'policies', ['p'], json);
    expect(taggedRowProblem(mac, 'policies', ['p'], json, tag)).toBeNull();
    expect(taggedRowProblem(mac, 'policies', ['p'], json, null)).toMatch(/carries no integrity tag/);
    expect(taggedRowProblem(mac, 'policies', ['p'], '{"k":2}', tag)).toMatch(/does not match/);
    expect(taggedRowProblem(mac, 'policies', ['q'], json, tag)).toMatch(/does not match/);
  });

  it('signs the log anchor with a key whose 32-byte public half verifies it, and zeroes the private key it built', () => {
    const mac = RowMac.fromSecretKey(secret, 'fp-1');
    const concat = vi.spyOn(Buffer, 'concat');
    const message = Buffer.from('head of the activity log');
    const { publicKey, signature } = mac.signAnchor(message);
    // The PKCS#8 DER assembled around the derived seed, zeroed once the signature is made.
    const der = concat.mock.results[0]!.value as Buffer;
    concat.mockRestore();
    expect(der.length).toBe(48);
    expect(der.every((b) => b === 0)).toBe(true);
    expect(publicKey.length).toBe(32);
    const raw = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
    expect(verify(null, message, raw, signature)).toBe(true);
    expect(mac.signAnchor(message).publicKey.equals(publicKey)).toBe(true);
  });

  it('can be destroyed twice (a lock after a lock)', () => {
    const mac = RowMac.fromSecretKey(secret, 'fp-1');
    mac.destroy();
    expect(() => mac.destroy()).not.toThrow();
  });
});
