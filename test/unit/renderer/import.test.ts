// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Res } from '../../../src-preload/contract.ts';
import { useImportsStore } from '../../../src-renderer/src/stores/imports.ts';
import ImportView from '../../../src-renderer/src/views/ImportView.vue';
import { installFakeHomopai, keySetInfo, sessionStatus, settle, type FakeHandlers } from './fake-homopai.ts';

const PATH = '/data/exports/ward-7.csv';

const PREVIEW: Res<'import.preview'> = {
  file: 'ward-7.csv',
  schema: 'vitals',
  delimiter: ';',
  features: [
    { name: 'temperature', unit: '°C', source: 'Temp (F)' },
    { name: 'spo2', unit: '%', source: 'SpO2' },
  ],
  label: { source: 'outcome', positive: 'yes' },
  hospitalColumn: null,
  patientColumn: 'MRN',
  notes: ['temperature converted from °F'],
};

function issues(n: number): Res<'import.run'> {
  return {
    ok: false,
    file: 'ward-7.csv',
    issues: Array.from({ length: n }, (_, i) => ({
      file: 'ward-7.csv',
      row: i + 2,
      column: i % 2 === 0 ? 'SpO2' : null,
      message: `row ${i + 2}: not a number`,
    })),
    totalIssues: 73,
  };
}

let pinia: Pinia;
enableAutoUnmount(afterEach);

async function mountImport(handlers: FakeHandlers) {
  const fake = installFakeHomopai({
    'session.status': () => sessionStatus({ keySet: keySetInfo(), unlocked: true, role: 'clinician' }),
    'files.pickCsv': () => PATH,
    'import.preview': () => PREVIEW,
    ...handlers,
  });
  const wrapper = mount(ImportView, { global: { plugins: [pinia] }, attachTo: document.body });
  await wrapper.get('[data-testid=choose-csv]').trigger('click');
  await settle();
  return { wrapper, fake };
}

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
});

describe('import view', () => {
  it('previews the column plan of the chosen file with the options as typed', async () => {
    const { wrapper, fake } = await mountImport({});
    expect(wrapper.get('[data-testid=chosen-file]').text()).toContain('ward-7.csv');
    expect(wrapper.get('[data-testid=preview-schema]').text()).toBe('vitals');
    expect(wrapper.findAll('[data-testid=preview-feature]').map((r) => r.text())).toEqual(['temperature°CTemp (F)', 'spo2%SpO2']);
    expect(wrapper.text()).toContain('temperature converted from °F');

    await wrapper.get('[data-testid=import-hospital]').setValue('  St. Mary  ');
    await wrapper.get('[data-testid=import-missing]').setValue('drop');
    await wrapper.get('[data-testid=refresh-preview]').trigger('click');
    await settle();
    expect(fake.callsTo('import.preview')).toEqual([
      { path: PATH, options: { missing: 'reject' } },
      { path: PATH, options: { missing: 'drop', hospital: 'St. Mary' } },
    ]);
  });

  it('lists rejected rows with their file, row and column, and counts the issues not shown', async () => {
    const { wrapper } = await mountImport({ 'import.run': () => issues(50) });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    const rows = wrapper.findAll('[data-testid=issue-row]');
    expect(rows).toHaveLength(50);
    expect(rows[0]!.findAll('td').map((c) => c.text())).toEqual(['ward-7.csv', '2', 'SpO2', 'row 2: not a number']);
    expect(rows[1]!.findAll('td')[2]!.text()).toBe('—');
    expect(wrapper.get('[data-testid=import-issues]').text()).toContain('73 problems found');
    expect(wrapper.get('[data-testid=issues-more]').text()).toBe('23 more not shown.');
  });

  it('does not claim more issues when every issue is shown, and marks header problems', async () => {
    const outcome: Res<'import.run'> = {
      ok: false,
      file: 'ward-7.csv',
      issues: [{ file: 'ward-7.csv', row: 0, column: 'SpO2', message: 'column "SpO2": duplicated' }],
      totalIssues: 1,
    };
    const { wrapper } = await mountImport({ 'import.run': () => outcome });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid=issues-more]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=issue-row-number]').text()).toBe('header');
    expect(wrapper.get('[data-testid=import-issues]').text()).toContain('1 problem found');
  });

  it('shows progress while importing, cancels by job id, and summarises the stored batch', async () => {
    let finish: (v: Res<'import.run'>) => void = () => undefined;
    const { wrapper, fake } = await mountImport({
      'import.run': () => new Promise((resolve) => (finish = resolve)),
      'jobs.cancel': () => ({ cancelled: true }),
    });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    const jobId = useImportsStore().job.id!;
    fake.emit({ jobId, phase: 'encrypting', done: 4096, total: null });
    fake.emit({ jobId: 'someone-else', phase: 'predicting', done: 1, total: 2 });
    await settle();
    expect(wrapper.get('[data-testid=job-progress]').text()).toContain('encrypting: 4,096 rows so far');
    await wrapper.get('[data-testid=job-cancel]').trigger('click');
    expect(fake.callsTo('jobs.cancel')).toEqual([{ jobId }]);

    finish({
      ok: true,
      result: {
        batchId: 7,
        file: 'ward-7.csv',
        rows: 19,
        dropped: 0,
        labeledRows: 19,
        blocks: 1,
        encryption: 'seeded-symmetric',
        rejected: { rows: 0, issues: [], report: null, rejectsCsv: null },
        duplicatesSkipped: 0,
        hospitals: ['H-NORTH', 'H-SOUTH'],
        features: PREVIEW.features,
        notes: [],
        encryptMs: 52.4,
      },
    });
    await settle();
    expect(wrapper.find('[data-testid=job-progress]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=import-result]').text()).toContain('batch #7');
    expect(wrapper.get('[data-testid=import-rows]').text()).toBe('19');
  });

  it('answers a drop honestly: the file is not read, the button is the way in', async () => {
    const fake = installFakeHomopai({});
    const wrapper = mount(ImportView, { global: { plugins: [pinia] } });
    const file = new File(['a,b\n1,2\n'], 'dropped.csv', { type: 'text/csv' });
    await wrapper.get('[data-testid=dropzone]').trigger('drop', { dataTransfer: { files: [file] } });
    expect(wrapper.get('[data-testid=drop-hint]').text()).toContain('“dropped.csv” was dropped');
    expect(wrapper.get('[data-testid=drop-hint]').text()).toContain('Choose CSV…');
    expect(fake.calls).toEqual([]);
  });
});
