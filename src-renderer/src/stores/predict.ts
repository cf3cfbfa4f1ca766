import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { HeldRun, PatientPrediction, Req, RunInfo, Scaling, SigmoidMode } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export type ResultQuery = Req<'predictions.page'>;
export type SortKey = ResultQuery['sort']['key'];
export type SortDirection = ResultQuery['sort']['direction'];
export type ResultFilter = ResultQuery['filter'];
export type ResultSort = ResultQuery['sort'];

/** Rows on one page of results; the run itself stays in the main process. */
export const RESULT_PAGE = 100;
/** Typing waits this long before asking main to filter again: one request per pause, not per key. */
export const FILTER_DEBOUNCE_MS = 250;

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
  /** Counts of the run held in main; its rows come a page at a time, never the whole run. */
  const held = ref<HeldRun | null>(null);
  /** One page of rows: a shallow ref, so Vue tracks the array, not every row in it. */
  const page = shallowRef<PatientPrediction[]>([]);
  const matching = ref(0);
  const offset = ref(0);
  const paging = ref(false);
  const filter = ref<ResultFilter>({ text: '', atRiskOnly: false });
  const sort = ref<ResultSort>({ key: 'probability', direction: 'desc' });
  /** Answers to superseded page requests are dropped: the latest query wins. */
  let pageRequest = 0;

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
      ui.reportJob(job, e, 'Encrypted prediction failed');
    }
  }

  /** Decryption happens only on request of the unlocked key holder; main holds the probabilities, this store one page. */
  async function decrypt(run: RunInfo): Promise<void> {
    decrypting.value = true;
    try {
      held.value = await call('predictions.decrypt', { runId: run.id });
      resultsRun.value = run;
      await loadPage(0);
    } catch (e) {
      ui.report(e, `Could not decrypt run ${run.id}`);
    } finally {
      decrypting.value = false;
    }
  }

  async function loadPage(at: number): Promise<void> {
    const run = held.value;
    if (run === null) return;
    const request = ++pageRequest;
    paging.value = true;
    try {
      const got = await call('predictions.page', { runId: run.runId, offset: at, limit: RESULT_PAGE, sort: { ...sort.value }, filter: { ...filter.value } });
      if (request !== pageRequest || held.value?.runId !== got.runId) return;
      page.value = got.rows;
      matching.value = got.matching;
      offset.value = got.offset;
    } catch (e) {
      if (request === pageRequest) ui.report(e, 'Could not show the results');
    } finally {
      if (request === pageRequest) paging.value = false;
    }
  }

  const pageCount = computed(() => Math.max(1, Math.ceil(matching.value / RESULT_PAGE)));
  const pageIndex = computed(() => Math.floor(offset.value / RESULT_PAGE));

  function goToPage(index: number): Promise<void> {
    const clamped = Math.min(pageCount.value - 1, Math.max(0, index));
    return loadPage(clamped * RESULT_PAGE);
  }

  // A new filter or order starts at the first page; typed text waits for a pause.
  let debounce: ReturnType<typeof setTimeout> | undefined;
  watch(
    () => filter.value.text,
    (text) => {
      clearTimeout(debounce);
      // Clearing the field is one action, not typing: no pause to wait for.
      if (text.trim() === '') void loadPage(0);
      else debounce = setTimeout(() => void loadPage(0), FILTER_DEBOUNCE_MS);
    },
  );
  watch([() => filter.value.atRiskOnly, () => sort.value], () => {
    clearTimeout(debounce);
    void loadPage(0);
  });

  const cancel = canceller(job, ui.report, 'the prediction');

  function sortBy(key: SortKey): void {
    const same = sort.value.key === key;
    const direction: SortDirection = same ? (sort.value.direction === 'asc' ? 'desc' : 'asc') : key === 'probability' ? 'desc' : 'asc';
    sort.value = { key, direction };
  }

  /** Names a run (a label; the log and reports keep referring to its number). */
  async function renameRun(id: number, name: string): Promise<void> {
    try {
      await call('names.set', { what: 'run', id: String(id), name });
      await loadRuns();
      const named = runs.value.find((r) => r.id === id);
      if (named && resultsRun.value?.id === id) resultsRun.value = named;
    } catch (e) {
      ui.report(e, 'Could not name the run');
    }
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

  /** Forgets every decrypted value this store held (main destroys its copy on Lock itself). */
  function clear(): void {
    clearTimeout(debounce);
    pageRequest++;
    page.value = [];
    held.value = null;
    matching.value = 0;
    offset.value = 0;
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
    held,
    page,
    matching,
    offset,
    paging,
    pageCount,
    pageIndex,
    filter,
    sort,
    loadRuns,
    predict,
    decrypt,
    goToPage,
    cancel,
    sortBy,
    exportCsv,
    renameRun,
    clear,
  };
});
