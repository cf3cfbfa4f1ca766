// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res, Role } from '../../../src-preload/contract.ts';
import { useSessionStore } from '../../../src-renderer/src/stores/session.ts';
import { useUiStore } from '../../../src-renderer/src/stores/ui.ts';
import ReportsView from '../../../src-renderer/src/views/ReportsView.vue';
import { FINGERPRINT, type FakeHandlers, installFakeHomopai, keySetInfo, metrics, namedError, sessionStatus, settle } from './fake-homopai.ts';

const NAME = 'homopai-report-20250110-101500';
const SIGNER = 'f'.repeat(8) + 'e'.repeat(56);

function generated(role: Role): NonNullable<Res<'reports.generate'>> {
  return {
    name: NAME,
    directory: '/home/ana/Reports',
    files: [
      { name: `${NAME}.pdf`, bytes: 48_213, sha256: '1'.repeat(64) },
      { name: `${NAME}.json`, bytes: 9_001, sha256: '2'.repeat(64) },
    ],
    manifest: `${NAME}.manifest.json`,
    signature: `${NAME}.manifest.sig`,
    manifestSha256: '3'.repeat(64),
    signer: SIGNER,
    newSigningKey: role === 'researcher',
    signedAt: '2025-01-10T10:15:00.000Z',
    generatedBy: { user: 'ana', role },
    keySet: { fingerprint: FINGERPRINT, preset: 'standard', polyModulusDegree: 8192, securityBits: 128 },
    totals: { hospitals: 3, batches: 1, patients: 19, labeled: 19 },
    model: { id: 'model-aaaabbbb', features: ['temperature_c', 'spo2'], sigmoidDegree: 3 },
    evaluation:
      role === 'researcher'
        ? { evaluated: true, runId: 1, modelId: 'model-old', labeled: 19, metrics: metrics() }
        : { evaluated: false, reason: 'not evaluated (role): evaluation decrypts predictions and labels, which only the researcher role may request' },
    audit: { entries: 12, chainOk: true, head: '4'.repeat(64) },
  };
}

let pinia: Pinia;
enableAutoUnmount(afterEach);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

async function mountReports(role: Role, custody: 'passphrase' | 'keychain', handlers: FakeHandlers = {}) {
  const fake = installFakeHomopai({
    'session.status': () => sessionStatus({ keySet: { ...keySetInfo(), custody }, unlocked: true, role }),
    'reports.generate': () => generated(role),
    'reports.verify': () => ({ ok: true, report: NAME, files: 2, signedAt: '2025-01-10T10:15:00.000Z', signer: { user: 'ana', role, fingerprint: SIGNER } }),
    'reports.publicKey': () => ({ path: '/home/ana/key.pem', fingerprint: SIGNER }),
    'privacy.status': () => ({ policy: { minPatients: 5, maxModelsPerBatch: 3, dp: null }, verified: true, epsilonSpent: 0, releases: [] }),
    ...handlers,
  });
  await useSessionStore().refresh();
  const wrapper = mount(ReportsView, { global: { plugins: [pinia] } });
  await settle();
  return { wrapper, fake };
}

describe('reports view', () => {
  it('explains what a report holds before there is one, and needs the passphrase of a passphrase key set', async () => {
    const { wrapper } = await mountReports('researcher', 'passphrase');
    expect(wrapper.get('[data-testid=empty-state]').text()).toContain('hospitals and batches as counts only');
    expect(wrapper.get('[data-testid=report-generate]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid=report-passphrase]').setValue('journey passphrase');
    expect(wrapper.get('[data-testid=report-generate]').attributes('disabled')).toBeUndefined();
  });

  it('generates in the chosen formats, forgets the passphrase, and shows files, signer and metrics', async () => {
    const { wrapper, fake } = await mountReports('researcher', 'passphrase');
    await wrapper.get('[data-testid=report-format-html]').setValue(false);
    await wrapper.get('[data-testid=report-passphrase]').setValue('journey passphrase');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsTo('reports.generate')).toEqual([{ formats: ['pdf', 'json'], passphrase: 'journey passphrase' }]);
    expect((wrapper.get('[data-testid=report-passphrase]').element as HTMLInputElement).value).toBe('');

    const result = wrapper.get('[data-testid=report-result]');
    expect(result.text()).toContain(NAME);
    expect(result.get('[data-testid=report-directory]').text()).toBe('/home/ana/Reports');
    expect(result.get('[data-testid=report-signer]').text()).toBe('FFFF-FFFF-EEEE-EEEE');
    expect(result.get('[data-testid=report-signer]').attributes('title')).toBe(SIGNER);
    expect(result.get('[data-testid=report-key-set]').text()).toBe('A1B2-C3D4-E5F6-0718');
    expect(result.get('[data-testid=report-patients]').text()).toMatch(/^19\s+19 labeled$/);
    expect([result.get('[data-testid=report-hospitals]').text(), result.get('[data-testid=report-batches]').text()]).toEqual(['3', '1']);
    expect(result.text()).toContain('first report with a new key');
    const files = result.findAll('[data-testid=report-file]').map((row) => row.findAll('td').map((td) => td.text()));
    expect(files).toEqual([
      [`${NAME}.pdf`, '47.1 KiB', '111111111111…'],
      [`${NAME}.json`, '8.8 KiB', '222222222222…'],
    ]);
    expect(result.text()).toContain(`${NAME}.manifest.json`);
    expect(result.findAll('[data-testid=metric-card] .metric-value').map((v) => v.text())).toEqual(['94.7 %', '75.0 %', '100.0 %', '0.857', '0.979', '0.061']);
    // The evaluated run used an older model than the latest one the card shows: the screen says which.
    expect(result.get('.report-section code').text()).toBe('model-ol');
    expect(result.get('[data-testid=report-other-model]').text()).toMatch(/^The run was made with model model-ol, not the latest model model-aa shown above/);
  });

  it('verifies the report and saves the verification key', async () => {
    const { wrapper } = await mountReports('researcher', 'passphrase');
    await wrapper.get('[data-testid=report-passphrase]').setValue('journey passphrase');
    await wrapper.get('form').trigger('submit');
    await settle();
    await wrapper.get('[data-testid=report-verify]').trigger('click');
    await settle();
    const verified = wrapper.get('[data-testid=report-verification]');
    expect(verified.classes()).toContain('verify-ok');
    expect(verified.text()).toMatch(new RegExp(`^Verified · ${NAME} · signature and 2 files match · signed by ana \\(researcher\\) with key FFFF-FFFF-EEEE-EEEE`));
    await wrapper.get('[data-testid=report-save-key]').trigger('click');
    await settle();
    expect(useUiStore().banners.map((b) => [b.kind, b.message])).toEqual([['success', 'Public key FFFF-FFFF-EEEE-EEEE saved to /home/ana/key.pem']]);
  });

  it('names the altered file when an auditor’s verification of a report folder fails', async () => {
    const { wrapper, fake } = await mountReports('auditor', 'keychain', {
      'reports.verify': () => ({ ok: false, file: `${NAME}.pdf`, problem: 'does not match the signed manifest (altered, truncated or replaced)' }),
    });
    await wrapper.get('[data-testid=report-verify-folder]').trigger('click');
    await settle();
    expect(fake.callsTo('reports.verify')).toEqual([{ source: 'folder' }]);
    const failed = wrapper.get('[data-testid=report-verification]');
    expect(failed.classes()).toContain('verify-bad');
    expect(failed.text()).toBe(`Not verified · ${NAME}.pdf does not match the signed manifest (altered, truncated or replaced)`);
  });

  it('gives the auditor verification only: no passphrase, no generate form, nothing left from a cancelled dialog', async () => {
    const { wrapper, fake } = await mountReports('auditor', 'passphrase', { 'reports.verify': () => null });
    expect(wrapper.find('form').exists()).toBe(false);
    expect(wrapper.find('[data-testid=report-passphrase]').exists()).toBe(false);
    expect(wrapper.find('[data-testid=empty-state]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=report-verify-card]').text()).toContain('only public material');
    await wrapper.get('[data-testid=report-verify-folder]').trigger('click');
    await settle();
    expect(fake.callsTo('reports.verify')).toEqual([{ source: 'folder' }]);
    expect(wrapper.find('[data-testid=report-verification]').exists()).toBe(false);
    expect(fake.callsTo('reports.generate')).toEqual([]);
  });

  it('keeps the empty state when the folder dialog is cancelled, and shows a failure beside the Generate button', async () => {
    let answer: () => Res<'reports.generate'> = () => null;
    const { wrapper } = await mountReports('researcher', 'keychain', { 'reports.generate': () => answer() });
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.find('[data-testid=empty-state]').exists()).toBe(true);
    expect(useUiStore().banners).toEqual([]);

    answer = () => {
      throw namedError('VaultError', 'the OS keychain is locked');
    };
    await wrapper.get('form').trigger('submit');
    await settle();
    // Beside the Generate button, not in a banner at the top.
    expect(useUiStore().banners).toEqual([]);
    expect(wrapper.get('[data-testid=job-error]').text()).toBe('Could not generate the report. The OS keychain is locked.');
    expect(wrapper.find('[data-testid=report-generating]').exists()).toBe(false);
  });

  it('shows progress while the report is being made and refuses to start a second one', async () => {
    let finish: (r: Res<'reports.generate'>) => void = () => undefined;
    const { wrapper, fake } = await mountReports('researcher', 'keychain', {
      'reports.generate': () => new Promise((resolve) => (finish = resolve)),
    });
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.get('[data-testid=report-generating]').text()).toContain('signing the report');
    expect(wrapper.get('[data-testid=report-generate]').attributes('disabled')).toBeDefined();
    await wrapper.get('form').trigger('submit');
    finish(generated('researcher'));
    await settle();
    expect(fake.callsTo('reports.generate')).toHaveLength(1);
    expect(wrapper.find('[data-testid=report-generating]').exists()).toBe(false);
    expect(wrapper.find('[data-testid=report-result]').exists()).toBe(true);
  });

  it('shows the release rule in force and the privacy ledger before any report is made', async () => {
    const releases = [{ seq: 12, at: '2025-01-10T10:00:00.000Z', purpose: 'aggregates', epsilon: 0.5, patients: 19 }];
    const { wrapper } = await mountReports('auditor', 'keychain', {
      'privacy.status': () => ({ policy: { minPatients: 8, maxModelsPerBatch: 2, dp: { epsilon: 0.5, budget: 4 } }, verified: false, epsilonSpent: 0.5, releases }),
    });
    expect(wrapper.get('[data-testid=release-k]').text()).toMatch(/^8 patients/);
    expect(wrapper.get('[data-testid=release-dp]').text()).toMatch(/epsilon 0.5 per release, budget 4;\s+0.50 spent in 1 release/);
    expect(wrapper.findAll('[data-testid=privacy-ledger] tbody tr').map((r) => r.findAll('td').map((d) => d.text()))).toEqual([['12', expect.any(String), 'aggregates', '19', '0.50']]);
    expect(wrapper.text()).toContain('the policy shown is what the activity log records');
  });
});
