import type { z } from 'zod';
import type { BundleRefusal as BundleRefusalSchema } from '../../src-preload/contract.ts';

/** Why a bundle was refused; nothing of a refused bundle is stored. */
export type BundleRefusal = z.infer<typeof BundleRefusalSchema>;

export class BundleError extends Error {
  readonly code: BundleRefusal;
  /** For 'hospital-key-changed': the short fingerprint of the key the bundle is signed with. */
  readonly offeredKey: string | null;
  constructor(code: BundleRefusal, message: string, offeredKey: string | null = null) {
    super(message);
    this.name = 'BundleError';
    this.code = code;
    this.offeredKey = offeredKey;
  }
}

/** An encryptor kit that is not a kit, was altered, or does not match its declared parameters. */
export class KitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KitError';
  }
}

/** The first few zod issues as `path: message`, for one-line errors about a file's structure. */
export function zodIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
