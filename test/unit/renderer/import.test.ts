// @vitest-environment happy-dom
import { enableAutoUnmount, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Req, Res } from '../../../src-preload/contract.ts';
import { useImportsStore } from '../../../src-renderer/src/stores/imports.ts';
import { useUiStore } from '../../../src-renderer/src/stores/ui.ts';
import ImportView from '../../../src-renderer/src/views/ImportView.vue';
import { installFakeHomopai, keySetInfo, sessionStatus, settle, type FakeHandlers } from './fake-homopai.ts';

const PATH = '/data/exports/ward-7.csv';

const PREVIEW: Res<'import.preview'> = {
  file: 'ward-7.csv',
  schema: 'vitals',
  delimiter: ';',
  features: [
    {
      name: 'temperature',
      unit: '°C',
      source: 'Temp (F)',
      range: [25, 45],
      recognisedAs: 'temperature',
      sourceUnit: { id: 'F', label: '°F', from: 'header' },
      unitChoices: [
        { id: 'C', label: '°C' },
        { id: 'F', label: '°F' },
      ],
      conversion: '°F → °C',
    },
    { name: 'spo2', unit: '%', source: 'SpO2', range: [50, 100], recognisedAs: 'spo2', sourceUnit: { id: '%', label: '%', from: 'only unit' } },
    { name: 'Age', unit: '', source: 'Age' },
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
      problem: 'not a number',
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
    const rows = wrapper.findAll('[data-testid=preview-feature]').map((r) => r.findAll('td').map((td) => td.text()));
    expect(rows).toEqual([
      ['Temp (F)', 'temperature', 'Unit of Temp (F)°C°Ffrom the header', '°F → °C', '25 – 45 °C'],
      ['SpO2', 'spo2', '%', '%, as is', '50 – 100 %'],
      ['Age', 'taken as given', '—', 'as is', 'none'],
    ]);
    expect(wrapper.text()).toContain('temperature converted from °F');

    await wrapper.get('[data-testid=import-hospital]').setValue('  St. Mary  ');
    await wrapper.get('[data-testid=import-missing]').setValue('drop');
    await wrapper.get('[data-testid=refresh-preview]').trigger('click');
    await settle();
    const defaults = { invalid: 'reject', duplicates: 'reject' };
    expect(fake.callsTo('import.preview')).toEqual([
      { path: PATH, options: { missing: 'reject', ...defaults } },
      { path: PATH, options: { missing: 'drop', ...defaults, hospital: 'St. Mary' } },
    ]);
  });

  it('asks for the unit of a column only the user can settle, and imports only once it is chosen', async () => {
    const weight = (from: 'needed' | 'option') => ({
      name: 'weight',
      unit: 'kg',
      source: 'Weight',
      range: [0.3, 650] as [number, number],
      recognisedAs: 'weight',
      sourceUnit: from === 'needed' ? { id: 'kg', label: 'kg', from } : { id: 'lb', label: 'lb', from },
      unitChoices: [
        { id: 'kg', label: 'kg' },
        { id: 'lb', label: 'lb' },
      ],
      ...(from === 'option' ? { conversion: 'lb → kg' } : {}),
    });
    const { wrapper, fake } = await mountImport({
      'import.preview': (req) => ({ ...PREVIEW, features: [weight(req.options?.units?.['Weight'] ? 'option' : 'needed')] }),
    });
    expect(wrapper.get('[data-testid=units-needed]').text()).toContain('Choose the unit of Weight');
    expect(wrapper.get('[data-testid=run-import]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid=unit-Weight]').attributes('aria-invalid')).toBe('true');

    await wrapper.get('[data-testid=unit-Weight]').setValue('lb');
    await settle();
    expect((fake.callsTo('import.preview').at(-1) as Req<'import.preview'>).options?.units).toEqual({ Weight: 'lb' });
    expect(wrapper.find('[data-testid=units-needed]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=run-import]').attributes('disabled')).toBeUndefined();
    expect(wrapper.get('[data-testid=unit-how]').text()).toBe('as you chose');
  });

  it('imports the valid rows when asked to skip invalid ones, and says where the report is', async () => {
    const { wrapper, fake } = await mountImport({
      'import.run': () => ({
        ok: true,
        result: {
          batchId: 3,
          file: 'ward-7.csv',
          rows: 17,
          dropped: 0,
          labeledRows: 17,
          blocks: 1,
          encryption: 'seeded-symmetric',
          rejected: {
            rows: 2,
            issues: [{ file: 'ward-7.csv', row: 4, column: 'SpO2', problem: 'not a number', message: 'row 4: not a number' }],
            report: '/data/exports/ward-7.rejects.txt',
            rejectsCsv: '/data/exports/ward-7.rejects.csv',
          },
          duplicatesSkipped: 1,
          hospitals: ['H-NORTH'],
          features: PREVIEW.features,
          notes: [],
          encryptMs: 40,
        },
      }),
    });
    await wrapper.get('[data-testid=import-invalid]').setValue('skip');
    await wrapper.get('[data-testid=import-rejects-csv]').setValue(true);
    await wrapper.get('[data-testid=import-duplicates]').setValue('skip');
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    expect((fake.callsTo('import.run')[0] as Req<'import.run'>).options).toEqual({ missing: 'reject', invalid: 'skip', rejectsCsv: true, duplicates: 'skip' });
    expect(wrapper.get('[data-testid=import-skipped]').text()).toBe('2');
    expect(wrapper.get('[data-testid=import-duplicates-skipped]').text()).toBe('1');
    expect(wrapper.get('[data-testid=import-rejects]').text()).toContain('/data/exports/ward-7.rejects.txt');
    expect(wrapper.get('[data-testid=import-rejects]').text()).toContain('/data/exports/ward-7.rejects.csv');
    expect(wrapper.get('[data-testid=skipped-issues]').text()).toContain('Rows of ward-7.csv left out');
    expect(wrapper.get('[data-testid=skipped-issues]').text()).not.toContain('Nothing was stored');
  });

  it('groups rejected rows by column and problem with their file lines, and counts the issues not listed', async () => {
    const { wrapper } = await mountImport({ 'import.run': () => issues(50) });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    const rows = wrapper.findAll('[data-testid=issue-row]');
    // 50 issues, one problem in two columns: two lines of the table, not fifty.
    expect(rows.map((r) => r.findAll('td').map((c) => c.text()))).toEqual([
      ['SpO2', 'not a number', '25', '2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, and 13 more'],
      ['—', 'not a number', '25', '3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, and 13 more'],
    ]);
    expect(wrapper.get('[data-testid=import-issues]').text()).toContain('73 problems found');
    expect(wrapper.get('[data-testid=import-issues]').text()).toContain('the header being line 1');
    expect(wrapper.get('[data-testid=issues-more]').text()).toBe('23 more problems not listed (50 shown).');
  });

  it('does not claim more issues when every issue is shown, and marks header problems', async () => {
    const outcome: Res<'import.run'> = {
      ok: false,
      file: 'ward-7.csv',
      issues: [{ file: 'ward-7.csv', row: 0, column: 'SpO2', problem: 'duplicated', message: 'column "SpO2": duplicated' }],
      totalIssues: 1,
    };
    const { wrapper } = await mountImport({ 'import.run': () => outcome });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid=issues-more]').exists()).toBe(false);
    expect(wrapper.get('[data-testid=issue-lines]').text()).toBe('header');
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

  it('says why an import failed beside its button, as a sentence, not in a banner far away', async () => {
    const { wrapper } = await mountImport({
      'import.run': () => {
        throw new Error('the OS keychain is locked');
      },
    });
    await wrapper.get('[data-testid=run-import]').trigger('click');
    await settle();
    const error = wrapper.get('[data-testid=job-error]');
    expect(error.text()).toBe('Import failed. The OS keychain is locked.');
    expect(error.attributes('role')).toBe('alert');
    // Right after the import's own actions, in the same card.
    expect(error.element.previousElementSibling?.classList.contains('actions')).toBe(true);
    expect(useUiStore().banners).toEqual([]);
  });
});
