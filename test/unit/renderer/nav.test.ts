// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res, Role } from '../../../src-preload/contract.ts';
import App from '../../../src-renderer/src/App.vue';
import { useUiStore } from '../../../src-renderer/src/stores/ui.ts';
import { EMPTY_OVERVIEW, installFakeHomopai, keySetInfo, PRESETS, sessionStatus, settle } from './fake-homopai.ts';

let pinia: Pinia;
enableAutoUnmount(afterEach);

function statusFor(role: Role): Res<'session.status'> {
  return sessionStatus({ keySet: keySetInfo(), unlocked: true, role });
}

async function mountApp(role: Role) {
  const fake = installFakeHomopai({
    'session.status': () => statusFor(role),
    'presets.list': () => PRESETS,
    'keys.lock': () => sessionStatus({ keySet: keySetInfo() }),
    'patients.overview': () => EMPTY_OVERVIEW,
    'models.list': () => [],
    'predict.runs': () => [],
    'bench.history': () => [],
    'audit.list': () => [],
    'audit.verify': () => ({ ok: true, entries: 0, head: '0'.repeat(64), anchor: null, unanchored: 0 }),
  });
  const app = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
  await settle();
  return { app, fake };
}

function navLabels(app: ReturnType<typeof mount>): string[] {
  return app.findAll('nav button').map((b) => b.text());
}

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

describe('navigation by role', () => {
  it.each([
    ['clinician', ['Import', 'Patients']],
    ['researcher', ['Import', 'Patients', 'Train on ciphertexts', 'Train on CSV & predict', 'Evaluation', 'Benchmarks', 'Reports']],
    ['auditor', ['Patients', 'Evaluation', 'Activity log', 'Reports']],
  ] as const)('%s sees %j', async (role, labels) => {
    const { app } = await mountApp(role);
    expect(navLabels(app)).toEqual(labels);
    expect(app.get('[aria-current=page]').text()).toBe(labels[0]);
  });

  it('moves between views with real buttons and marks the current one', async () => {
    const { app } = await mountApp('researcher');
    expect(app.find('[data-testid=import-view]').exists()).toBe(true);
    await app.get('[data-testid=nav-bench]').trigger('click');
    await settle();
    expect(app.get('[data-testid=nav-bench]').attributes('aria-current')).toBe('page');
    expect(app.get('[data-testid=nav-import]').attributes('aria-current')).toBeUndefined();
    expect(app.find('[data-testid=bench-view]').exists()).toBe(true);
    expect(app.get('[data-testid=empty-state]').text()).toContain('run the first benchmark');
  });

  it('shows the key fingerprint and role in the header, and locks back to the unlock form', async () => {
    const { app, fake } = await mountApp('auditor');
    expect(app.get('[data-testid=key-fingerprint]').text()).toContain('A1B2-C3D4-E5F6-0718');
    expect(app.get('[data-testid=role]').text()).toBe('auditor');
    await app.get('[data-testid=lock]').trigger('click');
    await settle();
    expect(fake.callsTo('keys.lock')).toHaveLength(1);
    expect(app.find('nav').exists()).toBe(false);
    expect(app.find('[data-testid=unlock-view]').exists()).toBe(true);
  });

  it('dismisses the newest banner with Escape', async () => {
    const { app } = await mountApp('clinician');
    const ui = useUiStore();
    ui.notify('error', 'First', 'one');
    ui.notify('error', 'Second', 'two');
    await settle();
    expect(app.findAll('[data-testid=banner]')).toHaveLength(2);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await settle();
    expect(app.findAll('[data-testid=banner]').map((b) => b.text())).toEqual([expect.stringContaining('First')]);
    await app.get('[data-testid=banner] button').trigger('click');
    expect(app.findAll('[data-testid=banner]')).toHaveLength(0);
  });
});
