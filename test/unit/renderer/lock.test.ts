// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from '../../../src-renderer/src/App.vue';
import { useImportsStore } from '../../../src-renderer/src/stores/imports.ts';
import { useSessionStore } from '../../../src-renderer/src/stores/session.ts';
import { useTrainingStore } from '../../../src-renderer/src/stores/training.ts';
import { installFakeHomopai, keySetInfo, PRESETS, sessionStatus, settle } from './fake-homopai.ts';

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

/** The app unlocked as a researcher, with a training job that runs until `finish` is called. */
async function mountWithRunningJob() {
  let unlocked = true;
  let finish: () => void = () => undefined;
  const fake = installFakeHomopai({
    'session.status': () => sessionStatus({ keySet: keySetInfo(), unlocked, role: unlocked ? 'researcher' : null }),
    'keys.lock': () => {
      unlocked = false;
      return sessionStatus({ keySet: keySetInfo(), unlocked: false, role: null });
    },
    'presets.list': () => PRESETS,
    'patients.overview': () => ({ hospitals: [], batches: [] }),
    'models.list': () => [],
    'predict.runs': () => [],
    'jobs.cancel': () => ({ cancelled: true }),
    'models.trainEncrypted': () =>
      new Promise((_, reject) => {
        finish = () => reject(new Error('cancelled'));
      }),
  });
  await useSessionStore().refresh();
  const wrapper = mount(App, { global: { plugins: [pinia], stubs: { ChartPanel: true } } });
  await settle();
  const training = useTrainingStore();
  training.selected = [1];
  void training.run();
  await settle();
  return { wrapper, fake, finish: () => finish() };
}

describe('Lock', () => {
  it('asks before cancelling a running job, and locks only when told to', async () => {
    const { wrapper, fake, finish } = await mountWithRunningJob();
    await wrapper.get('[data-testid=lock]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid=lock-confirm]').text()).toMatch(/^A job is running: locking cancels it and rolls back what it has written\./);
    await wrapper.get('[data-testid=lock-keep]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid=lock-confirm]').exists()).toBe(false);
    expect(fake.callsTo('keys.lock')).toEqual([]);

    await wrapper.get('[data-testid=lock]').trigger('click');
    await settle();
    await wrapper.get('[data-testid=lock-anyway]').trigger('click');
    await settle();
    expect(fake.callsTo('keys.lock')).toHaveLength(1);
    finish();
  });

  it('locks at once when nothing runs, and the next person finds a blank import form', async () => {
    const { wrapper, fake, finish } = await mountWithRunningJob();
    finish();
    await settle();
    const imports = useImportsStore();
    imports.form.hospital = 'H-NORTH';
    imports.form.invalid = 'skip';
    await wrapper.get('[data-testid=lock]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid=lock-confirm]').exists()).toBe(false);
    expect(fake.callsTo('keys.lock')).toHaveLength(1);
    expect([imports.form.hospital, imports.form.invalid]).toEqual(['', 'reject']);
  });

  it('shows a job running on another screen in the status bar, with Cancel and a way back to it', async () => {
    const { wrapper, fake, finish } = await mountWithRunningJob();
    // The researcher's first screen is Import; the training runs on its own screen.
    const bar = wrapper.get('[data-testid=job-status-bar]');
    expect(bar.text()).toContain('Encrypted training');
    await bar.get('[data-testid=job-cancel]').trigger('click');
    await settle();
    expect(fake.callsTo('jobs.cancel')).toEqual([{ jobId: expect.any(String) }]);
    await wrapper.get('[data-testid=job-show]').trigger('click');
    await settle();
    // On the job's own screen its progress is shown there, not twice.
    expect(wrapper.find('[data-testid=training-view]').exists()).toBe(true);
    expect(wrapper.find('[data-testid=job-status-bar]').exists()).toBe(false);
    finish();
    await settle();
  });
});
