import type { EpochReport } from './federated-train.ts';

/** Progress of long work (import, prediction, benchmark), reported to the CLI's stderr or the app's bar. */
export interface Progress {
  phase: string;
  done: number;
  /** Unknown while streaming a file of unknown length. */
  total: number | null;
  /** Each epoch of encrypted training, for a live chart. */
  epoch?: EpochReport;
}

export interface JobHooks {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export class CancelledError extends Error {
  constructor(what: string) {
    super(`${what} was cancelled; nothing was stored`);
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(hooks: JobHooks, what: string): void {
  if (hooks.signal?.aborted) throw new CancelledError(what);
}

/** Yields to the event loop so cancellation and progress events get through between CPU-bound SEAL calls. */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
