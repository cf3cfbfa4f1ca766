import { CkksContext } from './context.ts';
import { presetByName } from './presets.ts';

const contexts = new Map<string, Promise<CkksContext>>();

/**
 * One CKKS context per preset and thread, kept for the thread's life: building one costs ~10 ms and its NTT
 * tables, and it holds no key, so sharing it between workspaces is safe.
 */
export function contextFor(preset: string): Promise<CkksContext> {
  let c = contexts.get(preset);
  if (!c) {
    c = CkksContext.create(presetByName(preset));
    contexts.set(preset, c);
  }
  return c;
}
