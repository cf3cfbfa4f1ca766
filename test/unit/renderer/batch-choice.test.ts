// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res } from '../../../src-preload/contract.ts';
import { useSessionStore } from '../../../src-renderer/src/stores/session.ts';
import PredictView from '../../../src-renderer/src/views/PredictView.vue';
import TrainingView from '../../../src-renderer/src/views/TrainingView.vue';
import { FINGERPRINT, installFakeHomopai, keySetInfo, sessionStatus, settle } from './fake-homopai.ts';

type Batch = Res<'patients.overview'>['batches'][number];

const feature = (name: string) => ({ name, unit: '' });
function batch(id: number, sourceName: string, features: string[], over: Partial<Batch> = {}): Batch {
  return {
    id,
    origin: 'csv',
    sourceName,
    sourceSha256: '0'.repeat(64),
    rows: 400,
    dropped: 0,
    labeledRows: 400,
    features: features.map(feature),
    keyFingerprint: FINGERPRINT,
    createdAt: '2025-01-10T10:00:00.000Z',
    ciphertexts: 6,
    ciphertextBytes: 1_000_000,
    level: 3,
    integrity: 'ok',
    ...over,
  };
}

const VITALS = ['temperature_c', 'systolic_bp', 'spo2'];
const BATCHES = [
  batch(1, 'north.csv', VITALS),
  batch(2, 'maternal.csv', ['Age', 'BloodSugar'], { rows: 900, labeledRows: 900 }),
  batch(3, 'south.csv', [...VITALS].reverse()),
  batch(4, 'old.csv', VITALS, { keyFingerprint: 'f'.repeat(64) }),
];
const MODEL: Res<'models.list'>[number] = {
  id: 'model-vitals',
  name: null,
  trainedBy: 'ana (researcher)',
  createdAt: '2025-01-10T10:00:00.000Z',
  features: VITALS.map(feature),
  weights: [0.1, 0.2, 0.3],
  bias: 0,
  sigmoid: { degree: 3, interval: 6, coefficients: [0.5, 0.2, 0, -0.004], maxError: 0.08 },
  training: { method: 'plaintext', rows: 19, positives: 3, source: 'pilot.csv' },
};

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(async () => {
  pinia = createPinia();
  setActivePinia(pinia);
  installFakeHomopai({
    'session.status': () => sessionStatus({ keySet: keySetInfo(), unlocked: true, role: 'researcher' }),
    'presets.list': () => [],
    'models.list': () => [MODEL],
    'predict.runs': () => [],
    'patients.overview': () => ({ hospitals: [], batches: BATCHES }),
  });
  await useSessionStore().refresh();
});

const box = (w: ReturnType<typeof mount>, id: string) => w.get(`[data-testid=${id}]`).element as HTMLInputElement;
const reasons = (w: ReturnType<typeof mount>) => w.findAll('[data-testid=batch-reason]').map((r) => r.text());

describe('choosing batches', () => {
  it('Predict selects only what the model can score and says why the others cannot be chosen', async () => {
    const wrapper = mount(PredictView, { global: { plugins: [pinia], stubs: { ResultsTable: true } } });
    await settle();
    expect([1, 2, 3].map((id) => box(wrapper, `predict-batch-${id}`).checked)).toEqual([true, false, true]);
    expect(box(wrapper, 'predict-batch-2').disabled).toBe(true);
    expect(wrapper.find('[data-testid=predict-batch-4]').exists()).toBe(false);
    expect(reasons(wrapper)).toEqual([": lacks the model's features temperature_c, systolic_bp, spo2"]);
    expect(wrapper.get('[data-testid=predict-run]').text()).toBe('Predict 800 patients');
  });

  it('Encrypted training pre-selects the largest poolable group and disables batches of other features or keys', async () => {
    const wrapper = mount(TrainingView, { global: { plugins: [pinia], stubs: { ChartPanel: true } } });
    await settle();
    // maternal.csv alone (900 labeled) outweighs north + south (800): the largest group by patients.
    expect([1, 2, 3, 4].map((id) => box(wrapper, `training-batch-${id}`).checked)).toEqual([false, true, false, false]);
    expect(box(wrapper, 'training-batch-1').disabled).toBe(true);
    expect(reasons(wrapper)).toEqual([
      ": its features differ from the chosen batches' (Age, BloodSugar)",
      ": its features differ from the chosen batches' (Age, BloodSugar)",
      ': encrypted under another key set',
    ]);
    // Unchecking the group frees the choice: the vitals batches become selectable, the old key set never.
    await wrapper.get('[data-testid=training-batch-2]').setValue(false);
    expect(box(wrapper, 'training-batch-1').disabled).toBe(false);
    expect(box(wrapper, 'training-batch-4').disabled).toBe(true);
  });
});
