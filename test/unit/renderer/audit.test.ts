// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res } from '../../../src-preload/contract.ts';
import AuditView from '../../../src-renderer/src/views/AuditView.vue';
import { installFakeHomopai, settle } from './fake-homopai.ts';

type Entry = Res<'audit.list'>[number];
const KEY = 'ab12'.repeat(16);
const entry = (seq: number, at: string, role: string, action: string, detail: Entry['detail']): Entry => ({
  seq,
  at,
  actor: 'ana',
  role,
  action,
  detail,
  prevHash: '0'.repeat(64),
  hash: `${seq}`.padStart(64, 'f'),
});
const ENTRIES = [
  entry(1, '2025-01-10T10:15:03.000Z', 'researcher', 'keygen', { key: 'key-set', keySet: KEY, preset: 'standard', custody: 'passphrase' }),
  entry(2, '2025-01-10T10:15:41.000Z', 'clinician', 'import', { batchId: 1, rows: 19, file: 'pilot.csv' }),
  entry(3, '2025-01-10T10:15:59.000Z', 'researcher', 'predict-failed', { modelId: 'm-1', batchIds: [2, 3], reason: 'batch 2 lacks the model’s feature(s) spo2' }),
];

enableAutoUnmount(afterEach);
beforeEach(() => {
  const pinia = createPinia();
  setActivePinia(pinia);
  installFakeHomopai({
    'audit.list': () => ENTRIES,
    'audit.verify': () => ({ ok: true, entries: 3, head: 'f'.repeat(64), anchor: null, unanchored: 0 }),
    'privacy.status': () => ({ policy: { minPatients: 5, maxModelsPerBatch: 20, dp: null }, verified: true, epsilonSpent: 0, releases: [] }),
  });
});

describe('activity log', () => {
  it('gives each entry its time to the second and its details as labelled values, hashes shortened', async () => {
    const wrapper = mount(AuditView, { global: { stubs: { ReleaseRuleCard: true } } });
    await settle();
    const rows = wrapper.findAll('[data-testid=audit-row]');
    expect(rows.map((r) => r.findAll('td')[1]!.text())).toEqual(
      ENTRIES.map((e) => new Date(e.at).toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })),
    );
    expect(rows[0]!.findAll('td')[1]!.text()).toMatch(/:03$/);
    const details = rows.map((r) => r.findAll('.field-value').map((f) => f.text()));
    expect(details[0]).toEqual(['key key-set', 'key set ab12ab12…', 'preset standard', 'custody passphrase']);
    expect(rows[0]!.findAll('.field-value')[1]!.attributes('title')).toBe(KEY);
    expect(details[2]).toEqual(['model id m-1', 'batch ids 2, 3', 'reason batch 2 lacks the model’s feature(s) spo2']);
  });

  it('narrows by role as well as by action', async () => {
    const wrapper = mount(AuditView, { global: { stubs: { ReleaseRuleCard: true } } });
    await settle();
    expect(wrapper.findAll('[data-testid=audit-role] option').map((o) => o.text())).toEqual(['All roles', 'clinician', 'researcher']);
    await wrapper.get('[data-testid=audit-role]').setValue('clinician');
    expect(wrapper.findAll('[data-testid=audit-row]').map((r) => r.find('.badge').text())).toEqual(['import']);
  });
});
