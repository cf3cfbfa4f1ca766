import { computed, reactive } from 'vue';
import type { Channel, Progress, Req, Res } from '../../../src-preload/contract.ts';
import { asFailure, call, newJobId, onJobProgress, sentence } from './client.ts';

export interface JobState {
  id: string | null;
  progress: Progress | null;
  /** Why the last run failed, shown beside the button that started it (JobError), not far away in a banner. */
  error: string | null;
}

export function createJobState(): JobState {
  return reactive({ id: null, progress: null, error: null });
}

/** A job in flight: its channel (what it is) and the state its store mirrors progress into. */
export interface ActiveJob {
  id: string;
  channel: Channel;
  state: JobState;
}

/**
 * Jobs in flight across all stores: the status bar shows them on every screen, Lock asks before cancelling
 * them, and the idle auto-lock must not pull the key from under one.
 */
export const activeJobs = reactive(new Map<string, ActiveJob>());
export const runningJobs = computed(() => activeJobs.size);

/** Asks main to stop a job by id (the status bar's Cancel). */
export async function cancelJobById(jobId: string): Promise<void> {
  await call('jobs.cancel', { jobId });
}

/** Runs a long call under a fresh job id, mirroring its progress events into `job` until it settles. */
export async function runJob<C extends Channel>(job: JobState, channel: C, build: (jobId: string) => Req<C>): Promise<Res<C>> {
  const jobId = newJobId();
  job.id = jobId;
  job.progress = null;
  job.error = null;
  const stop = onJobProgress(jobId, (p) => {
    job.progress = p;
  });
  activeJobs.set(jobId, { id: jobId, channel, state: job });
  try {
    return await call(channel, build(jobId));
  } catch (e) {
    // A cancellation is the user's own doing: news (a banner), not an error to show beside the button.
    const failure = asFailure(e);
    if (failure.name !== 'CancelledError') job.error = sentence(failure.message);
    throw e;
  } finally {
    stop();
    activeJobs.delete(jobId);
    job.id = null;
    job.progress = null;
  }
}

async function cancelJob(job: JobState): Promise<void> {
  if (job.id !== null) await cancelJobById(job.id);
}

/** A store's Cancel action: asks main to stop the job, and reports a failure to do so (never throws). */
export function canceller(job: JobState, report: (error: unknown, title: string) => void, what: string): () => Promise<void> {
  return async () => {
    try {
      await cancelJob(job);
    } catch (e) {
      report(e, `Could not cancel ${what}`);
    }
  };
}
