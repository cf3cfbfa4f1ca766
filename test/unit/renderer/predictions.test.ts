// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res } from '../../../src-preload/contract.ts';
import ResultsTable from '../../../src-renderer/src/components/ResultsTable.vue';
import { filterAndSort, RESULT_PAGE, usePredictStore } from '../../../src-renderer/src/stores/predict.ts';
import { installFakeHomopai, settle } from './fake-homopai.ts';

type Prediction = Res<'predictions.decrypt'>[number];

function p(hospital: string, patientId: string, probability: number): Prediction {
  return { batchId: 1, hospital, patientId, probability, atRisk: probability >= 0.5 };
}

const ROWS: Prediction[] = [
  p('H-NORTH', 'P-0002', 0.12),
  p('H-SOUTH', 'P-0017', 0.91),
  p('H-NORTH', 'P-0010', 0.55),
  p('H-CENTRAL', 'P-0008', 0.03),
  p('H-SOUTH', 'P-0014', 0.49),
];

const RUN: Res<'predict.run'> = { id: 3, modelId: 'm-1', scaling: 'folded', sigmoid: 'exact', batchIds: [1], patients: 5, createdAt: '2025-01-10T10:00:00.000Z' };

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

describe('filterAndSort', () => {
  const ids = (rows: Prediction[]) => rows.map((r) => r.patientId);

  it('filters by hospital or patient id, case-insensitively, and by at-risk', () => {
    const byProbability = { key: 'probability', direction: 'desc' } as const;
    expect(ids(filterAndSort(ROWS, { text: 'south', atRiskOnly: false }, byProbability))).toEqual(['P-0017', 'P-0014']);
    expect(ids(filterAndSort(ROWS, { text: 'p-001', atRiskOnly: true }, byProbability))).toEqual(['P-0017', 'P-0010']);
    expect(ids(filterAndSort(ROWS, { text: '  ', atRiskOnly: true }, byProbability))).toEqual(['P-0017', 'P-0010']);
  });

  it('sorts each column both ways without touching the input', () => {
    const all = { text: '', atRiskOnly: false };
    expect(ids(filterAndSort(ROWS, all, { key: 'probability', direction: 'asc' }))).toEqual(['P-0008', 'P-0002', 'P-0014', 'P-0010', 'P-0017']);
    expect(ids(filterAndSort(ROWS, all, { key: 'hospital', direction: 'asc' }))).toEqual(['P-0008', 'P-0002', 'P-0010', 'P-0014', 'P-0017']);
    expect(ids(filterAndSort(ROWS, all, { key: 'patientId', direction: 'desc' }))).toEqual(['P-0017', 'P-0014', 'P-0010', 'P-0008', 'P-0002']);
    expect(ids(filterAndSort(ROWS, all, { key: 'atRisk', direction: 'desc' })).slice(0, 2)).toEqual(['P-0017', 'P-0010']);
    expect(ids(ROWS)[0]).toBe('P-0002');
  });
});

describe('results table', () => {
  async function mountResults(rows: Prediction[] = ROWS) {
    installFakeHomopai({ 'predictions.decrypt': () => rows });
    await usePredictStore().decrypt(RUN);
    const wrapper = mount(ResultsTable, { global: { plugins: [pinia] } });
    await settle();
    return wrapper;
  }

  const shownIds = (w: Awaited<ReturnType<typeof mountResults>>) => w.findAll('[data-testid=result-patient]').map((c) => c.text());

  it('starts with the highest probability first and filters as the user types', async () => {
    const wrapper = await mountResults();
    expect(shownIds(wrapper)).toEqual(['P-0017', 'P-0010', 'P-0014', 'P-0002', 'P-0008']);
    expect(wrapper.get('[data-testid=result-probability]').text()).toBe('0.910');
    await wrapper.get('[data-testid=results-filter]').setValue('north');
    expect(shownIds(wrapper)).toEqual(['P-0010', 'P-0002']);
    await wrapper.get('[data-testid=results-at-risk-only]').setValue(true);
    expect(shownIds(wrapper)).toEqual(['P-0010']);
    expect(wrapper.get('[data-testid=results-count]').text()).toBe('1 of 5 patients');
  });

  it('sorts by a header button, toggles direction on a second press, and says so in aria-sort', async () => {
    const wrapper = await mountResults();
    const header = () => wrapper.get('[data-testid=sort-patientId]').element.closest('th')!;
    await wrapper.get('[data-testid=sort-patientId]').trigger('click');
    expect(shownIds(wrapper)).toEqual(['P-0002', 'P-0008', 'P-0010', 'P-0014', 'P-0017']);
    expect(header().getAttribute('aria-sort')).toBe('ascending');
    await wrapper.get('[data-testid=sort-patientId]').trigger('click');
    expect(shownIds(wrapper)).toEqual(['P-0017', 'P-0014', 'P-0010', 'P-0008', 'P-0002']);
    expect(header().getAttribute('aria-sort')).toBe('descending');
    expect(wrapper.get('[data-testid=sort-probability]').element.closest('th')!.getAttribute('aria-sort')).toBe('none');
  });

  it('renders a large run a page at a time', async () => {
    const many = Array.from({ length: RESULT_PAGE + 30 }, (_, i) => p('H-X', `P-${i}`, i / (RESULT_PAGE + 30)));
    const wrapper = await mountResults(many);
    expect(wrapper.findAll('[data-testid=result-row]')).toHaveLength(RESULT_PAGE);
    await wrapper.get('.pager button').trigger('click');
    expect(wrapper.findAll('[data-testid=result-row]')).toHaveLength(RESULT_PAGE + 30);
  });
});
