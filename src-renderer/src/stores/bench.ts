import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { BenchResult, PresetName } from '../api/types.ts';
import { useUiStore } from './ui.ts';

/** The pilot file, one full standard ciphertext, and a hospital-network scale run. */
export const BENCH_SIZES = [19, 4096, 100_000] as const;

export const useBenchStore = defineStore('bench', () => {
  const ui = useUiStore();
  const patients = ref<number>(BENCH_SIZES[1]);
  const preset = ref<PresetName>('standard');
  const job = createJobState();
  const running = computed(() => job.id !== null);
  const latest = ref<BenchResult | null>(null);
  const history = ref<BenchResult[]>([]);
  const loading = ref(false);

  async function loadHistory(): Promise<void> {
    loading.value = true;
    try {
      history.value = await call('bench.history', {});
      latest.value ??= history.value.reduce<BenchResult | null>((a, b) => (a === null || b.id > a.id ? b : a), null);
    } catch (e) {
      ui.report(e, 'Could not load the benchmark history');
    } finally {
      loading.value = false;
    }
  }

  async function run(): Promise<void> {
    if (running.value) return;
    const n = patients.value;
    const p = preset.value;
    try {
      latest.value = await runJob(job, 'bench.run', (jobId) => ({ jobId, patients: n, preset: p }));
      await loadHistory();
    } catch (e) {
      ui.reportJob(job, e, 'Benchmark failed');
    }
  }

  const cancel = canceller(job, ui.report, 'the benchmark');

  function clear(): void {
    latest.value = null;
    history.value = [];
  }

  return { patients, preset, job, running, latest, history, loading, loadHistory, run, cancel, clear };
});
