import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { PatientPrediction, RunInfo, Scaling, SigmoidMode } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export type SortKey = 'hospital' | 'patientId' | 'probability' | 'atRisk';
export type SortDirection = 'asc' | 'desc';

export interface ResultFilter {
  text: string;
  atRiskOnly: boolean;
}

export interface ResultSort {
  key: SortKey;
  direction: SortDirection;
}

function compare(a: PatientPrediction, b: PatientPrediction, key: SortKey): number {
  switch (key) {
    case 'hospital':
      return a.hospital.localeCompare(b.hospital) || a.patientId.localeCompare(b.patientId, undefined, { numeric: true });
    case 'patientId':
      return a.patientId.localeCompare(b.patientId, undefined, { numeric: true });
    case 'probability':
      return a.probability - b.probability;
    case 'atRisk':
      return Number(a.atRisk) - Number(b.atRisk) || a.probability - b.probability;
  }
}

export function filterAndSort(rows: readonly PatientPrediction[], filter: ResultFilter, sort: ResultSort): PatientPrediction[] {
  const needle = filter.text.trim().toLowerCase();
  const kept = rows.filter(
    (r) =>
      (!filter.atRiskOnly || r.atRisk) &&
      (needle === '' || r.hospital.toLowerCase().includes(needle) || r.patientId.toLowerCase().includes(needle)),
  );
  const sign = sort.direction === 'asc' ? 1 : -1;
  return kept.sort((a, b) => sign * compare(a, b, sort.key));
}

/** Rows rendered at once: a 100,000-patient run must not become 100,000 table rows. */
export const RESULT_PAGE = 200;

export const usePredictStore = defineStore('predict', () => {
  const ui = useUiStore();
  const runs = ref<RunInfo[]>([]);
  const modelId = ref<string | null>(null);
  const batchIds = ref<number[]>([]);
  const scaling = ref<Scaling>('folded');
  /** Exact by default: a clinician reads the model's own probability, not an approximation's. */
  const sigmoid = ref<SigmoidMode>('exact');
  const job = createJobState();
  const predicting = computed(() => job.id !== null);
  const decrypting = ref(false);
  const resultsRun = ref<RunInfo | null>(null);
  const results = ref<PatientPrediction[]>([]);
  const filter = ref<ResultFilter>({ text: '', atRiskOnly: false });
  const sort = ref<ResultSort>({ key: 'probability', direction: 'desc' });
  const shown = ref(RESULT_PAGE);

  const visible = computed(() => filterAndSort(results.value, filter.value, sort.value));
  const atRiskCount = computed(() => results.value.filter((r) => r.atRisk).length);

  async function loadRuns(): Promise<void> {
    try {
      runs.value = await call('predict.runs', {});
    } catch (e) {
      ui.report(e, 'Could not list the prediction runs');
    }
  }

  async function predict(): Promise<void> {
    const model = modelId.value;
    if (model === null || batchIds.value.length === 0 || predicting.value) return;
    const batches = [...batchIds.value];
    try {
      const run = await runJob(job, 'predict.run', (jobId) => ({ jobId, modelId: model, batchIds: batches, scaling: scaling.value, sigmoid: sigmoid.value }));
      await loadRuns();
      await decrypt(run);
    } catch (e) {
      ui.report(e, 'Encrypted prediction failed');
    }
  }

  /** Decryption happens only on request of the unlocked key holder; the probabilities live in this store only. */
  async function decrypt(run: RunInfo): Promise<void> {
    decrypting.value = true;
    try {
      results.value = await call('predictions.decrypt', { runId: run.id });
      resultsRun.value = run;
      shown.value = RESULT_PAGE;
    } catch (e) {
      ui.report(e, `Could not decrypt run ${run.id}`);
    } finally {
      decrypting.value = false;
    }
  }

  const cancel = canceller(job, ui.report, 'the prediction');

  function sortBy(key: SortKey): void {
    const same = sort.value.key === key;
    const direction: SortDirection = same ? (sort.value.direction === 'asc' ? 'desc' : 'asc') : key === 'probability' ? 'desc' : 'asc';
    sort.value = { key, direction };
  }

  async function exportCsv(): Promise<void> {
    const run = resultsRun.value;
    if (run === null) return;
    try {
      const saved = await call('predictions.exportCsv', { runId: run.id });
      if (saved.path !== null) ui.notify('success', 'Exported', `${saved.rows} predictions saved to ${saved.path}`);
    } catch (e) {
      ui.report(e, 'Export failed');
    }
  }

  function clear(): void {
    results.value = [];
    resultsRun.value = null;
    runs.value = [];
    filter.value = { text: '', atRiskOnly: false };
  }

  return {
    runs,
    modelId,
    batchIds,
    scaling,
    sigmoid,
    job,
    predicting,
    decrypting,
    resultsRun,
    results,
    filter,
    sort,
    shown,
    visible,
    atRiskCount,
    loadRuns,
    predict,
    decrypt,
    cancel,
    sortBy,
    exportCsv,
    clear,
  };
});
