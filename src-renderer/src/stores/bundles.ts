import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { BundleOutcome } from '../api/types.ts';
import { useUiStore } from './ui.ts';

/** Hospital bundles: chosen in the OS dialog, verified and stored by main, never decrypted. */
export const useBundlesStore = defineStore('bundles', () => {
  const ui = useUiStore();
  const path = ref<string | null>(null);
  const job = createJobState();
  const outcome = ref<BundleOutcome | null>(null);
  const running = computed(() => job.id !== null);
  /** The key holder ticked that the hospital confirmed its new key, read out by phone or on paper. */
  const keyConfirmed = ref(false);

  async function pick(): Promise<void> {
    try {
      const chosen = await call('files.pickBundle', {});
      if (chosen === null) return;
      path.value = chosen;
      outcome.value = null;
      await run();
    } catch (e) {
      ui.report(e, 'Could not open the bundle');
    }
  }

  async function run(acceptKey?: string): Promise<void> {
    const file = path.value;
    if (file === null || running.value) return;
    keyConfirmed.value = false;
    try {
      outcome.value = await runJob(job, 'import.bundle', (jobId) => ({ jobId, path: file, ...(acceptKey ? { acceptKey } : {}) }));
    } catch (e) {
      ui.reportJob(job, e, 'Bundle import failed');
    }
  }

  /** Imports the refused bundle again, accepting the new signing key it was refused for. */
  async function acceptNewKey(): Promise<void> {
    const o = outcome.value;
    if (!o || o.ok || o.reason !== 'hospital-key-changed' || !o.offeredKey || !keyConfirmed.value) return;
    await run(o.offeredKey);
  }

  const cancel = canceller(job, ui.report, 'the bundle import');

  function clear(): void {
    path.value = null;
    outcome.value = null;
    keyConfirmed.value = false;
  }

  return { path, job, outcome, running, keyConfirmed, pick, acceptNewKey, cancel, clear };
});
