import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call } from '../api/client.ts';
import type { Evaluation, RunInfo } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export const useEvaluationStore = defineStore('evaluation', () => {
  const ui = useUiStore();
  const runs = ref<RunInfo[]>([]);
  const loadingRuns = ref(false);
  const runId = ref<number | null>(null);
  const evaluation = ref<Evaluation | null>(null);
  const evaluating = ref(false);

  /**
   * Lists the runs and, for a role that may decrypt, evaluates the chosen run (the newest unless one was
   * already chosen and still exists).
   */
  async function load(evaluateRun: boolean): Promise<void> {
    loadingRuns.value = true;
    try {
      runs.value = await call('predict.runs', {});
    } catch (e) {
      ui.report(e, 'Could not list the prediction runs');
      return;
    } finally {
      loadingRuns.value = false;
    }
    if (!evaluateRun) return;
    const chosen = runs.value.find((r) => r.id === runId.value) ?? newest(runs.value);
    if (chosen && chosen.id !== evaluation.value?.runId) await evaluate(chosen.id);
  }

  async function evaluate(id: number): Promise<void> {
    runId.value = id;
    evaluating.value = true;
    evaluation.value = null;
    try {
      evaluation.value = await call('evaluate.run', { runId: id });
    } catch (e) {
      ui.report(e, `Could not evaluate run ${id}`);
    } finally {
      evaluating.value = false;
    }
  }

  function clear(): void {
    runs.value = [];
    runId.value = null;
    evaluation.value = null;
  }

  return { runs, loadingRuns, runId, evaluation, evaluating, load, evaluate, clear };
});

function newest(runs: readonly RunInfo[]): RunInfo | undefined {
  return runs.reduce<RunInfo | undefined>((best, r) => (best === undefined || r.id > best.id ? r : best), undefined);
}
