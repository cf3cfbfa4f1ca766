import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobHooks } from '../common/jobs.ts';
import { Workspace } from '../store/workspace.ts';
import { PassphraseVault } from '../vault/passphrase.ts';
import { type Caller, callerFor } from './caller.ts';
import type { KeySetInfo } from '../../src-preload/contract.ts';
import { createKeySet, KeyHolder } from './key-sets.ts';

/** A throwaway workspace with its own key set and an unlocked key holder, removed (and the key zeroed) on dispose. */
export interface Scratch extends Disposable {
  dir: string;
  ws: Workspace;
  caller: Caller;
  holder: KeyHolder;
  keySet: KeySetInfo;
  keygenMs: number;
}

/**
 * For one-shot runs and benchmarks: a real SQLite file, a real passphrase vault (under a random passphrase that
 * dies with the process, so the secret key is still only ever on disk sealed) and real CKKS keys.
 */
export async function scratchWorkspace(
  preset: string,
  prefix: string,
  hooks: JobHooks = {},
  galoisSteps: readonly number[] = [],
): Promise<Scratch> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let ws: Workspace | null = null;
  try {
    ws = Workspace.open(dir);
    const caller = callerFor(ws, { role: 'researcher', via: 'scratch' });
    const vault = new PassphraseVault(dir, randomBytes(24).toString('base64'));
    hooks.onProgress?.({ phase: 'generating keys', done: 0, total: null });
    const { info, keygenMs } = await createKeySet(caller, preset, () => vault, galoisSteps);
    const holder = await KeyHolder.unlock(ws, vault);
    const open = ws;
    return {
      dir,
      ws: open,
      caller,
      holder,
      keySet: info,
      keygenMs,
      [Symbol.dispose]: () => {
        holder.lock();
        open[Symbol.dispose]();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    ws?.[Symbol.dispose]();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
