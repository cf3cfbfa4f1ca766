import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call } from '../api/client.ts';
import type { Overview, PatientMeta } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export const PAGE_SIZE = 50;

export const usePatientsStore = defineStore('patients', () => {
  const ui = useUiStore();
  const overview = ref<Overview | null>(null);
  const loading = ref(false);
  const selectedBatchId = ref<number | null>(null);
  const offset = ref(0);
  const total = ref(0);
  const page = ref<PatientMeta[]>([]);
  const pageLoading = ref(false);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      overview.value = await call('patients.overview', {});
      const stillThere = overview.value.batches.some((b) => b.id === selectedBatchId.value);
      if (!stillThere) {
        selectedBatchId.value = null;
        page.value = [];
      }
    } catch (e) {
      ui.report(e, 'Could not load the stored batches');
    } finally {
      loading.value = false;
    }
  }

  async function showBatch(batchId: number, from = 0): Promise<void> {
    pageLoading.value = true;
    try {
      const res = await call('patients.list', { batchId, offset: from, limit: PAGE_SIZE });
      selectedBatchId.value = batchId;
      offset.value = from;
      total.value = res.total;
      page.value = res.patients;
    } catch (e) {
      ui.report(e, `Could not list the patients of batch ${batchId}`);
    } finally {
      pageLoading.value = false;
    }
  }

  async function turnPage(direction: 1 | -1): Promise<void> {
    if (selectedBatchId.value === null) return;
    const from = Math.max(0, offset.value + direction * PAGE_SIZE);
    if (from >= total.value) return;
    await showBatch(selectedBatchId.value, from);
  }

  function clear(): void {
    overview.value = null;
    selectedBatchId.value = null;
    page.value = [];
    total.value = 0;
    offset.value = 0;
  }

  return { overview, loading, selectedBatchId, offset, total, page, pageLoading, load, showBatch, turnPage, clear };
});
