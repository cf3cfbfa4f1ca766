import { defineStore } from 'pinia';
import { computed, reactive, ref, watch } from 'vue';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { BatchInfo, EncryptedTrainResult, EpochReport } from '../api/types.ts';
import { largestPool, whyNotPoolable, whyNotUsable } from '../../../src-preload/compatibility.ts';
import { useModelsStore } from './models.ts';
import { usePatientsStore } from './patients.ts';
import { useSessionStore } from './session.ts';
import { useUiStore } from './ui.ts';

export interface EncryptedTrainForm {
  epochs: number;
  lr: number;
  nesterov: boolean;
}

/** Encrypted training on stored batches: the form, the live epochs of a running job, the last result. */
export const useTrainingStore = defineStore('training', () => {
  const ui = useUiStore();
  const patients = usePatientsStore();
  const session = useSessionStore();
  const models = useModelsStore();
  // TenSEAL's tutorial settings, which the services use by default too.
  const form = reactive<EncryptedTrainForm>({ epochs: 5, lr: 1, nesterov: false });
  const selected = ref<number[]>([]);
  const job = createJobState();
  const running = computed(() => job.id !== null);
  const epochs = ref<EpochReport[]>([]);
  const result = ref<EncryptedTrainResult | null>(null);

  const activeKey = computed(() => session.keySet?.fingerprint ?? null);
  /** Labeled batches, each with the reason it cannot join the chosen pool (another key set, other features), if any. */
  const candidates = computed<BatchInfo[]>(() => (patients.overview?.batches ?? []).filter((b) => b.labeledRows > 0));
  const offered = computed(() => {
    const chosen = candidates.value.filter((b) => selected.value.includes(b.id));
    return candidates.value.map((batch) => ({ batch, reason: selected.value.includes(batch.id) ? whyNotUsable(batch, activeKey.value) : whyNotPoolable(batch, chosen, activeKey.value) }));
  });

  // Every epoch arrives as a progress event; the chart grows with them.
  watch(
    () => job.progress?.epoch,
    (e) => {
      if (e && !epochs.value.some((x) => x.epoch === e.epoch)) epochs.value = [...epochs.value, e];
    },
  );

  async function load(): Promise<void> {
    await patients.load();
    // Pre-selected: the largest group of batches the service can pool (same features, active key set).
    const poolable = new Set(candidates.value.filter((b) => whyNotUsable(b, activeKey.value) === null).map((b) => b.id));
    selected.value = selected.value.filter((id) => poolable.has(id));
    if (selected.value.length === 0) selected.value = largestPool(candidates.value, activeKey.value).map((b) => b.id);
  }

  async function run(): Promise<void> {
    if (running.value || selected.value.length === 0) return;
    epochs.value = [];
    result.value = null;
    const batchIds = [...selected.value];
    try {
      result.value = await runJob(job, 'models.trainEncrypted', (jobId) => ({ jobId, batchIds, epochs: form.epochs, lr: form.lr, nesterov: form.nesterov }));
      epochs.value = result.value.epochs;
      await models.load();
    } catch (e) {
      ui.reportJob(job, e, 'Encrypted training failed');
    }
  }

  const cancel = canceller(job, ui.report, 'the training');

  function clear(): void {
    selected.value = [];
    epochs.value = [];
    result.value = null;
  }

  return { form, selected, job, running, epochs, result, candidates, offered, load, run, cancel, clear };
});
