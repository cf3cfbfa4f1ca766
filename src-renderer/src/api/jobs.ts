import { reactive, ref } from 'vue';
import type { Channel, Progress, Req, Res } from '../../../src-preload/contract.ts';
import { call, newJobId, onJobProgress } from './client.ts';

export interface JobState {
  id: string | null;
  progress: Progress | null;
}

export function createJobState(): JobState {
  return reactive({ id: null, progress: null });
}

/** Jobs in flight across all stores: the idle auto-lock must not pull the key from under a running job. */
export const runningJobs = ref(0);

/** Runs a long call under a fresh job id, mirroring its progress events into `job` until it settles. */
export async function runJob<C extends Channel>(job: JobState, channel: C, build: (jobId: string) => Req<C>): Promise<Res<C>> {
  const jobId = newJobId();
  job.id = jobId;
  job.progress = null;
  const stop = onJobProgress(jobId, (p) => {
    job.progress = p;
  });
  runningJobs.value++;
  try {
    return await call(channel, build(jobId));
  } finally {
    stop();
    runningJobs.value--;
    job.id = null;
    job.progress = null;
  }
}

async function cancelJob(job: JobState): Promise<void> {
  if (job.id !== null) await call('jobs.cancel', { jobId: job.id });
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
