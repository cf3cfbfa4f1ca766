import type { z } from 'zod';

/** Why a bundle was refused; nothing of a refused bundle is stored. */
export type BundleRefusal =
  | 'not-a-bundle'
  | 'version'
  | 'truncated'
  | 'malformed'
  | 'key-set'
  | 'hospital-key-changed'
  | 'signature'
  | 'replay'
  | 'ciphertext';

export class BundleError extends Error {
  readonly code: BundleRefusal;
  constructor(code: BundleRefusal, message: string) {
    super(message);
    this.name = 'BundleError';
    this.code = code;
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
