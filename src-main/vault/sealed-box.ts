import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * AES-256-GCM, authenticated, with the key-set fingerprint as associated data: a blob moved onto another key
 * set, or altered by a single bit, fails to open instead of yielding a wrong key.
 */
export const SealedBoxSchema = z.object({
  cipher: z.literal('aes-256-gcm'),
  iv: z.string().regex(/^[A-Za-z0-9+/=]+$/),
  tag: z.string().regex(/^[A-Za-z0-9+/=]+$/),
  data: z.string().regex(/^[A-Za-z0-9+/=]*$/),
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
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(box.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(box.data, 'base64')), d.final()]);
  } catch {
    return null;
  }
}
