import type { Progress as ProgressEvent } from '../../src-preload/contract.ts';

/** Progress of long work (import, prediction, benchmark), for the CLI's stderr or the app's bar (which adds the job id). */
export type Progress = Omit<ProgressEvent, 'jobId'>;

export interface JobHooks {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export class CancelledError extends Error {
  /** `outcome`: what the cancelled work leaves behind (nothing, unless it is resumable). */
  constructor(what: string, outcome = 'nothing was stored') {
    super(`${what} was cancelled; ${outcome}`);
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
