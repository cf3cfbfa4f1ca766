import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { Role } from '../api/types.ts';
import { mayUse } from '../../../src-preload/roles.ts';
import { useSessionStore } from './session.ts';

export type ViewName = 'import' | 'patients' | 'training' | 'predict' | 'evaluation' | 'bench' | 'audit' | 'reports';

export const VIEW_LABELS: Readonly<Record<ViewName, string>> = {
  import: 'Import',
  patients: 'Patients',
  // Two ways to get a model, told apart by what they train on: the key holder's CSV, or pooled ciphertexts.
  training: 'Train on ciphertexts',
  predict: 'Train on CSV & predict',
  evaluation: 'Evaluation',
  bench: 'Benchmarks',
  audit: 'Activity log',
  reports: 'Reports',
};

/** What each role works on; the services enforce nothing here, this only keeps each screen set focused. */
export const ROLE_VIEWS: Readonly<Record<Role, readonly ViewName[]>> = {
  clinician: ['import', 'patients'],
  researcher: ['import', 'patients', 'training', 'predict', 'evaluation', 'bench', 'reports'],
  auditor: ['patients', 'evaluation', 'audit', 'reports'],
};


export const useNavStore = defineStore('nav', () => {
  const session = useSessionStore();
  const requested = ref<ViewName | null>(null);

  const items = computed<readonly ViewName[]>(() => (session.role ? ROLE_VIEWS[session.role] : []));
  // A view the role does not have (after unlocking under another role) falls back to the role's first view.
  const current = computed<ViewName | null>(() => {
    const req = requested.value;
    return req !== null && items.value.includes(req) ? req : (items.value[0] ?? null);
  });

  watch(
    () => session.role,
    () => (requested.value = null),
  );

  function go(view: ViewName): void {
    if (items.value.includes(view)) requested.value = view;
  }

  function allows(view: ViewName): boolean {
    return items.value.includes(view);
  }

  // Actions inside a shared view that the services refuse to some roles: read from the same table main enforces.
  const can = computed(() => ({
    listPatients: mayUse('patients.list', session.role),
    decrypt: mayUse('predictions.decrypt', session.role),
    generateReport: mayUse('reports.generate', session.role),
    rotateKeys: mayUse('keys.rotate', session.role),
  }));

  return { items, current, go, allows, can };
});
