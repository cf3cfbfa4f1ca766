import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { ModelInfo, SigmoidDegree, TrainResult } from '../api/types.ts';
import { importOptions } from './imports.ts';
import { useUiStore } from './ui.ts';

export interface TrainForm {
  label: string;
  positive: string;
  degree: SigmoidDegree;
}

export const useModelsStore = defineStore('models', () => {
  const ui = useUiStore();
  const models = ref<ModelInfo[]>([]);
  const loading = ref(false);
  const path = ref<string | null>(null);
  const form = reactive<TrainForm>({ label: '', positive: '', degree: 3 });
  const job = createJobState();
  const training = computed(() => job.id !== null);
  /** Only the latest training's check: it is computed at training time and not stored by the services. */
  const lastTrain = ref<TrainResult | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      models.value = await call('models.list', {});
    } catch (e) {
      ui.report(e, 'Could not list the models');
    } finally {
      loading.value = false;
    }
  }

  /** Names a model (a label; runs and reports keep referring to its id). */
  async function rename(id: string, name: string): Promise<void> {
    try {
      await call('names.set', { what: 'model', id, name });
      await load();
    } catch (e) {
      ui.report(e, 'Could not name the model');
    }
  }

  async function pick(): Promise<void> {
    try {
      const chosen = await call('files.pickCsv', {});
      if (chosen !== null) path.value = chosen;
    } catch (e) {
      ui.report(e, 'Could not open the file');
    }
  }

  async function train(): Promise<TrainResult | null> {
    const file = path.value;
    if (file === null || training.value) return null;
    try {
      const options = importOptions({ label: form.label, positive: form.positive });
      const result = await runJob(job, 'models.train', (jobId) => ({ jobId, path: file, options, sigmoidDegree: form.degree }));
      lastTrain.value = result;
      await load();
      return result;
    } catch (e) {
      ui.reportJob(job, e, 'Training failed');
      return null;
    }
  }

  const cancel = canceller(job, ui.report, 'the training');

  function clear(): void {
    models.value = [];
    lastTrain.value = null;
    path.value = null;
  }

  return { models, loading, path, form, job, training, lastTrain, load, rename, pick, train, cancel, clear };
});
