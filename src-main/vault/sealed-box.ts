import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * AES-256-GCM, authenticated, with the key-set fingerprint as associated data: a blob moved onto another key
 * set, or altered by a single bit, fails to open instead of yielding a wrong key.
 */
const TAG_BYTES = 16;
const IV_BYTES = 12;

/*
 * The IV and tag lengths are pinned: Node's GCM decipher accepts tags as short as 4 bytes, and a file whose tag
 * an attacker truncated to 4 bytes would take 2^32 tries to forge rather than 2^128.
 */
export const SealedBoxSchema = z.object({
  cipher: z.literal('aes-256-gcm'),
  iv: z.base64().refine((b) => Buffer.from(b, 'base64').length === IV_BYTES, `the IV must be ${IV_BYTES} bytes`),
  tag: z.base64().refine((b) => Buffer.from(b, 'base64').length === TAG_BYTES, `the tag must be ${TAG_BYTES} bytes`),
  data: z.base64(),
});
export type SealedBox = z.infer<typeof SealedBoxSchema>;

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): SealedBox {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plaintext), c.final()]);
  return { cipher: 'aes-256-gcm', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** Returns null when authentication fails (wrong key, other key set, or tampered bytes). */
export function open(key: Uint8Array, box: SealedBox, aad: string): Uint8Array | null {
  try {
    const tag = Buffer.from(box.tag, 'base64');
    // authTagLength makes setAuthTag refuse any other tag length, a truncated tag included.
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'), { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(box.data, 'base64')), d.final()]);
  } catch {
    return null;
  }
}
