import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Files shipped in resources/. Both the sources (src-main/services/) and the build (out/main/) sit two
 * folders below the project root; a packaged app passes its resources folder in HOMOPAI_RESOURCES.
 */
export function resourcePath(relative: string): string {
  const base = process.env['HOMOPAI_RESOURCES'] ?? fileURLToPath(new URL('../../resources/', import.meta.url));
  const path = `${base.replace(/\/?$/, '/')}${relative}`;
  if (!existsSync(path)) throw new Error(`bundled resource ${relative} not found at ${path}`);
  return path;
}

export function samplePath(): string {
  return resourcePath('sample/pilot-vitals.csv');
}
