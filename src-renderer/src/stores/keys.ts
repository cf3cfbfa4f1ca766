import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { Res } from '../api/types.ts';
import { usePatientsStore } from './patients.ts';
import { useSessionStore } from './session.ts';
import { useUiStore } from './ui.ts';

export type KeySetListing = Res<'keys.list'>[number];
export type OldKeyFate = 'archive' | 'destroy';

/** The workspace's key sets, and the key holder's rotation to a new one (long, resumable, cancellable). */
export const useKeysStore = defineStore('keys', () => {
  const ui = useUiStore();
  const session = useSessionStore();
  const sets = ref<KeySetListing[]>([]);
  const job = createJobState();
  const rotating = ref(false);
  const result = ref<Res<'keys.rotate'> | null>(null);

  async function load(): Promise<void> {
    try {
      sets.value = await call('keys.list', {});
    } catch (e) {
      ui.report(e, 'Could not list the key sets');
    }
  }

  async function rotate(old: OldKeyFate, passphrase: string | undefined): Promise<void> {
    if (rotating.value) return;
    rotating.value = true;
    result.value = null;
    try {
      const done = await runJob(job, 'keys.rotate', (jobId) => ({ jobId, old, ...(passphrase ? { passphrase } : {}) }));
      // The header shows the active key set's fingerprint, and every batch now names the new one: the result is
      // shown once the lists around it agree with it.
      await Promise.all([session.refresh(), usePatientsStore().load(), load()]);
      result.value = done;
      ui.notify('success', 'Keys rotated', `Every batch is now under key set ${done.to.shortFingerprint}`);
    } catch (e) {
      ui.reportJob(job, e, 'The key rotation stopped');
      // A stopped rotation leaves a key set 'being rotated to': the list says so and the form offers to resume.
      await load();
    } finally {
      rotating.value = false;
    }
  }

  const cancel = canceller(job, ui.report, 'the key rotation');

  return { sets, job, rotating, result, load, rotate, cancel };
});
