import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import { call } from '../api/client.ts';
import { canceller, createJobState, runJob } from '../api/jobs.ts';
import type { ImportCheck, ImportOptions, ImportOutcome, ImportPreview } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export interface ImportForm {
  hospital: string;
  label: string;
  positive: string;
  missing: 'reject' | 'drop';
  invalid: 'reject' | 'skip';
  /** With invalid rows skipped: also write the rejected rows themselves (0600) beside the file. */
  rejectsCsv: boolean;
  duplicates: 'reject' | 'skip' | 'allow';
  /** Units the user picked in the preview, by source column. */
  units: Record<string, string>;
}

/** Blank fields mean "let the importer detect it", so they are left out rather than sent as empty strings. */
export function importOptions(form: Partial<ImportForm>): ImportOptions {
  const options: ImportOptions = {};
  if (form.missing) options.missing = form.missing;
  if (form.invalid) options.invalid = form.invalid;
  if (form.invalid === 'skip' && form.rejectsCsv) options.rejectsCsv = true;
  if (form.duplicates) options.duplicates = form.duplicates;
  if (form.units && Object.keys(form.units).length > 0) options.units = { ...form.units };
  if (form.hospital?.trim()) options.hospital = form.hospital.trim();
  if (form.label?.trim()) options.label = form.label.trim();
  if (form.positive?.trim()) options.positive = form.positive.trim();
  return options;
}

export const useImportsStore = defineStore('imports', () => {
  const ui = useUiStore();
  const path = ref<string | null>(null);
  const blankForm = (): ImportForm => ({ hospital: '', label: '', positive: '', missing: 'reject', invalid: 'reject', rejectsCsv: false, duplicates: 'reject', units: {} });
  const form = reactive<ImportForm>(blankForm());
  const preview = ref<ImportPreview | null>(null);
  const previewing = ref(false);
  const job = createJobState();
  const outcome = ref<ImportOutcome | null>(null);
  const running = computed(() => job.id !== null);
  const checkJob = createJobState();
  const checking = computed(() => checkJob.id !== null);
  /** The last full check of the chosen file with the options then in force; cleared when either changes. */
  const checked = ref<ImportCheck | null>(null);
  /** Source columns whose unit only the user can settle: the import is refused until each is picked. */
  const unitsNeeded = computed(() => (preview.value?.features ?? []).filter((f) => f.sourceUnit?.from === 'needed').map((f) => f.source ?? f.name));

  /** Picks the unit of a source column and checks the file again with it. */
  async function setUnit(column: string, unit: string): Promise<void> {
    form.units = { ...form.units, [column]: unit };
    await loadPreview();
  }

  async function pick(): Promise<void> {
    try {
      const chosen = await call('files.pickCsv', {});
      if (chosen === null) return;
      path.value = chosen;
      outcome.value = null;
      // Units picked for another file's columns do not carry over.
      form.units = {};
      await loadPreview();
    } catch (e) {
      ui.report(e, 'Could not open the file');
    }
  }

  async function loadPreview(): Promise<void> {
    if (path.value === null) return;
    previewing.value = true;
    preview.value = null;
    checked.value = null;
    try {
      preview.value = await call('import.preview', { path: path.value, options: importOptions(form) });
    } catch (e) {
      ui.report(e, 'The file cannot be imported as it is');
    } finally {
      previewing.value = false;
    }
  }

  /** Every row checked as the import would, before anything is encrypted: a long file's problems at once. */
  async function check(): Promise<void> {
    const file = path.value;
    if (file === null || running.value || checking.value) return;
    checked.value = null;
    try {
      checked.value = await runJob(checkJob, 'import.check', (jobId) => ({ jobId, path: file, options: importOptions(form) }));
    } catch (e) {
      ui.reportJob(checkJob, e, 'Could not check the file');
    }
  }

  async function run(): Promise<void> {
    const file = path.value;
    if (file === null || running.value) return;
    outcome.value = null;
    // The import's own outcome supersedes the check: one list of problems on screen, not two.
    checked.value = null;
    try {
      outcome.value = await runJob(job, 'import.run', (jobId) => ({ jobId, path: file, options: importOptions(form) }));
      // The file is stored now; leaving its "Encrypt and import" button up invites a duplicate batch.
      if (outcome.value.ok) preview.value = null;
    } catch (e) {
      ui.reportJob(job, e, 'Import failed');
    }
  }

  const cancel = canceller(job, ui.report, 'the import');
  const cancelCheck = canceller(checkJob, ui.report, 'the check');

  /** On lock: the next person to unlock starts from a blank form, not the last one's file and choices. */
  function clear(): void {
    path.value = null;
    preview.value = null;
    outcome.value = null;
    checked.value = null;
    Object.assign(form, blankForm());
  }

  return { path, form, preview, previewing, job, outcome, running, checkJob, checking, checked, unitsNeeded, pick, loadPreview, setUnit, check, run, cancel, cancelCheck, clear };
});
