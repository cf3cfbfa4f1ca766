// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res } from '../../../src-preload/contract.ts';
import ResultsTable from '../../../src-renderer/src/components/ResultsTable.vue';
import { FILTER_DEBOUNCE_MS, RESULT_PAGE, usePredictStore } from '../../../src-renderer/src/stores/predict.ts';
import { heldRunOf } from '../../helpers/decrypted-run.ts';
import { installFakeHomopai, settle } from './fake-homopai.ts';

type Prediction = Res<'predictions.page'>['rows'][number];

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

const RUN: Res<'predict.run'> = { id: 3, name: null, modelId: 'm-1', scaling: 'folded', sigmoid: 'exact', batchIds: [1], patients: 5, createdAt: '2025-01-10T10:00:00.000Z' };

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

describe('results table', () => {
  async function mountResults(rows: Prediction[] = ROWS) {
    // The transport is faked; the paging, sorting and filtering are main's own (DecryptedRun).
    const held = heldRunOf(RUN.id, rows);
    const fake = installFakeHomopai({
      'predictions.decrypt': () => ({ runId: held.runId, patients: held.patients, atRisk: held.atRisk }),
      'predictions.page': (q) => held.page(q),
    });
    await usePredictStore().decrypt(RUN);
    const wrapper = mount(ResultsTable, { global: { plugins: [pinia] } });
    await settle();
    return Object.assign(wrapper, { fake });
  }

  const shownIds = (w: Awaited<ReturnType<typeof mountResults>>) => w.findAll('[data-testid=result-patient]').map((c) => c.text());

  it('starts with the highest probability first and filters as the user types', async () => {
    const wrapper = await mountResults();
    expect(shownIds(wrapper)).toEqual(['P-0017', 'P-0010', 'P-0014', 'P-0002', 'P-0008']);
    expect(wrapper.get('[data-testid=result-probability]').text()).toBe('0.910');
    await wrapper.get('[data-testid=results-filter]').setValue('n');
    await wrapper.get('[data-testid=results-filter]').setValue('no');
    await wrapper.get('[data-testid=results-filter]').setValue('north');
    // Typing asks main once, after a pause, not once per key.
    expect(shownIds(wrapper)).toHaveLength(5);
    await new Promise((r) => setTimeout(r, FILTER_DEBOUNCE_MS + 50));
    await settle();
    expect(shownIds(wrapper)).toEqual(['P-0010', 'P-0002']);
    expect(wrapper.fake.callsTo('predictions.page').filter((q) => (q as { filter: { text: string } }).filter.text !== '')).toHaveLength(1);
    await wrapper.get('[data-testid=results-at-risk-only]').setValue(true);
    await settle();
    expect(shownIds(wrapper)).toEqual(['P-0010']);
    expect(wrapper.get('[data-testid=results-count]').text()).toBe('1 of 5 patients');
  });

  it('sorts by a header button, toggles direction on a second press, and says so in aria-sort', async () => {
    const wrapper = await mountResults();
    const header = () => wrapper.get('[data-testid=sort-patientId]').element.closest('th')!;
    await wrapper.get('[data-testid=sort-patientId]').trigger('click');
    await settle();
    expect(shownIds(wrapper)).toEqual(['P-0002', 'P-0008', 'P-0010', 'P-0014', 'P-0017']);
    expect(header().getAttribute('aria-sort')).toBe('ascending');
    await wrapper.get('[data-testid=sort-patientId]').trigger('click');
    await settle();
    expect(shownIds(wrapper)).toEqual(['P-0017', 'P-0014', 'P-0010', 'P-0008', 'P-0002']);
    expect(header().getAttribute('aria-sort')).toBe('descending');
    expect(wrapper.get('[data-testid=sort-probability]').element.closest('th')!.getAttribute('aria-sort')).toBe('none');
  });

  it('asks main for one page at a time and moves between pages', async () => {
    const n = RESULT_PAGE * 2 + 30;
    const many = Array.from({ length: n }, (_, i) => p('H-X', `P-${i}`, i / n));
    const wrapper = await mountResults(many);
    expect(wrapper.findAll('[data-testid=result-row]')).toHaveLength(RESULT_PAGE);
    expect(wrapper.get('[data-testid=results-range]').text()).toMatch(/^1–100 of 230 · page 1 of 3$/);
    expect(wrapper.get('[data-testid=page-previous]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid=page-last]').trigger('click');
    await settle();
    expect(wrapper.findAll('[data-testid=result-row]')).toHaveLength(30);
    expect(shownIds(wrapper).at(-1)).toBe('P-0');
    expect(wrapper.get('[data-testid=page-next]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid=page-previous]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid=results-range]').text()).toMatch(/^101–200 of 230/);
    // Every answer was a page, never the run.
    for (const q of wrapper.fake.callsTo('predictions.page')) expect((q as { limit: number }).limit).toBe(RESULT_PAGE);
  });

  it('forgets every row on clear (lock)', async () => {
    const wrapper = await mountResults();
    usePredictStore().clear();
    await settle();
    expect(wrapper.findAll('[data-testid=result-row]')).toHaveLength(0);
    expect(usePredictStore().held).toBeNull();
  });
});
