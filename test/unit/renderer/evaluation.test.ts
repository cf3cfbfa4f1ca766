// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res, Role } from '../../../src-preload/contract.ts';
import { useModelsStore } from '../../../src-renderer/src/stores/models.ts';
import { useSessionStore } from '../../../src-renderer/src/stores/session.ts';
import EvaluationView from '../../../src-renderer/src/views/EvaluationView.vue';
import { installFakeHomopai, keySetInfo, metrics, sessionStatus, settle } from './fake-homopai.ts';

const RUNS: Res<'predict.runs'> = [
  { id: 1, name: null, modelId: 'model-aaaa', scaling: 'folded', sigmoid: 'exact', batchIds: [1], patients: 19, createdAt: '2025-01-10T10:00:00.000Z' },
  { id: 2, name: 'ward 7, December', modelId: 'model-bbbb', scaling: 'folded', sigmoid: 'exact', batchIds: [1, 2], patients: 38, createdAt: '2025-01-11T10:00:00.000Z' },
];

function evaluationOf(runId: number): Res<'evaluate.run'> {
  return {
    runId,
    labeled: 19,
    metrics: metrics({ accuracy: runId === 2 ? 0.9474 : 0.5 }),
    roc: [
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 1, threshold: 0.6 },
      { fpr: 1, tpr: 1, threshold: 0 },
    ],
    histogram: [
      { lo: 0, hi: 0.3, patients: 14 },
      { lo: 0.3, hi: 1, patients: 5 },
    ],
    byClass: [
      { lo: 0, hi: 0.6, positives: 0, negatives: 14 },
      { lo: 0.6, hi: 1, positives: 3, negatives: 2 },
    ],
    calibration: [
      { lo: 0, hi: 0.6, patients: 14, predicted: 0.05, observed: 0 },
      { lo: 0.6, hi: 1, patients: 5, predicted: 0.71, observed: 0.6 },
    ],
    release: { minPatients: 5, epsilon: null },
    trainedOn: runId === 1 ? [1] : [],
  };
}

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

async function mountEvaluation(role: Role, runs = RUNS) {
  const fake = installFakeHomopai({
    'session.status': () => sessionStatus({ keySet: keySetInfo(), unlocked: true, role }),
    'predict.runs': () => runs,
    'evaluate.run': (req) => evaluationOf(req.runId),
  });
  await useSessionStore().refresh();
  // Chart drawing is covered by the e2e test in Chromium; here only what surrounds the charts.
  const wrapper = mount(EvaluationView, { global: { plugins: [pinia], stubs: { ChartPanel: true, TrainCheck: true } } });
  await settle();
  return { wrapper, fake };
}

describe('evaluation view', () => {
  it('evaluates the newest run and shows its metric cards, calibration and sigmoid mode', async () => {
    const { wrapper, fake } = await mountEvaluation('researcher');
    expect(fake.callsTo('evaluate.run')).toEqual([{ runId: 2 }]);
    const cards = wrapper.findAll('[data-testid=metric-card]').map((c) => [c.get('.metric-label').text(), c.get('.metric-value').text()]);
    expect(cards).toEqual([
      ['Accuracy', '94.7 %'],
      ['Precision', '75.0 %'],
      ['Recall', '100.0 %'],
      ['F1', '0.857'],
      ['ROC-AUC', '0.979'],
      ['Brier score', '0.061'],
    ]);
    const charts = wrapper.findAll('chart-panel-stub');
    expect(charts.map((c) => c.attributes('testid'))).toEqual(['chart-confusion', 'chart-roc', 'chart-histogram', 'chart-calibration', 'chart-by-class']);
    expect(charts[3]!.attributes('description')).toBe('Observed at-risk rate against mean predicted probability in 2 bins of at least 5 patients per batch; Brier score 0.061');
    expect(wrapper.get('[data-testid=evaluation-sigmoid]').text()).toBe('exact logistic after decryption');
    // Run 2 was not trained on: no warning. Thresholds are the released curve's edges, never a score.
    expect(wrapper.find('[data-testid=evaluation-trained-on]').exists()).toBe(false);
    expect(wrapper.findAll('[data-testid=threshold-row]').map((r) => r.findAll('td').map((c) => c.text()))).toEqual([
      ['0.60', '100.0 %', '100.0 %'],
      ['0.00', '100.0 %', '0.0 %'],
    ]);
  });

  it('warns that a run scored on the model\'s own training data is not a held-out evaluation', async () => {
    const { wrapper } = await mountEvaluation('researcher');
    await wrapper.get('[data-testid=evaluation-run]').setValue('1');
    await settle();
    expect(wrapper.get('[data-testid=evaluation-trained-on]').text()).toMatch(/^Not a held-out evaluation\. The model was trained on batch #1 of this\s+run/);
  });

  it('shows a held-out check only for the model the run used', async () => {
    const { wrapper } = await mountEvaluation('researcher');
    expect(wrapper.find('[data-testid=evaluation-fidelity]').exists()).toBe(false);
    // The latest training made model-aaaa; the newest run (2) used model-bbbb: its check is not this run's.
    useModelsStore().lastTrain = { model: { id: 'model-aaaa' }, check: {} } as unknown as ReturnType<typeof useModelsStore>['lastTrain'];
    await settle();
    expect(wrapper.find('[data-testid=evaluation-fidelity]').exists()).toBe(false);
    await wrapper.get('[data-testid=evaluation-run]').setValue('1');
    await settle();
    expect(wrapper.get('[data-testid=evaluation-fidelity] h3').text()).toBe('Encrypted vs plaintext (model model-aa, its held-out check at training)');
  });

  it('re-evaluates when another run is chosen', async () => {
    const { wrapper, fake } = await mountEvaluation('researcher');
    await wrapper.get('[data-testid=evaluation-run]').setValue('1');
    await settle();
    expect(fake.callsTo('evaluate.run')).toEqual([{ runId: 2 }, { runId: 1 }]);
    expect(wrapper.get('[data-testid=metric-card] .metric-value').text()).toBe('50.0 %');
  });

  it('says what to do when there is no run yet', async () => {
    const { wrapper } = await mountEvaluation('researcher', []);
    expect(wrapper.get('[data-testid=empty-state]').text()).toContain('No prediction runs yet');
    expect(wrapper.find('[data-testid=metric-cards]').exists()).toBe(false);
  });

  it('lists runs for an auditor without asking to decrypt anything', async () => {
    const { wrapper, fake } = await mountEvaluation('auditor');
    expect(fake.callsTo('evaluate.run')).toEqual([]);
    expect(wrapper.get('[data-testid=runs-table]').findAll('tbody tr')).toHaveLength(2);
    expect(wrapper.text()).toContain('only the researcher role may request');
  });
});
