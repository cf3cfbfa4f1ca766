import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp folder per test, removed afterwards; never under ../shared, which is read-only. */
export function tempDir(prefix = 'homopai-test-'): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** ../shared beside the project root; HOMOPAI_SHARED names it when the tests run from a copy (StrykerJS's sandbox). */
export const SHARED = join(process.env.HOMOPAI_SHARED ?? join(import.meta.dirname, '../../../shared'), 'datasets');
export const PASSPHRASE = 'correct horse battery staple';
