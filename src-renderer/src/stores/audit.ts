import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call } from '../api/client.ts';
import type { AuditEntry, AuditVerification, PrivacyStatus } from '../api/types.ts';
import { useUiStore } from './ui.ts';

export const AUDIT_LIMIT = 1000;

export const useAuditStore = defineStore('audit', () => {
  const ui = useUiStore();
  const entries = ref<AuditEntry[]>([]);
  const action = ref('');
  /** Every action seen unfiltered, so the filter keeps offering all of them while one is selected. */
  const actions = ref<string[]>([]);
  const verification = ref<AuditVerification | null>(null);
  const privacy = ref<PrivacyStatus | null>(null);
  const loading = ref(false);
  const exporting = ref(false);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const filter = action.value;
      const [list, verified, ledger] = await Promise.all([
        call('audit.list', filter ? { action: filter, limit: AUDIT_LIMIT } : { limit: AUDIT_LIMIT }),
        call('audit.verify', {}),
        call('privacy.status', {}),
      ]);
      entries.value = list;
      verification.value = verified;
      privacy.value = ledger;
      if (!filter) actions.value = [...new Set(list.map((e) => e.action))].sort();
    } catch (e) {
      ui.report(e, 'Could not read the activity log');
    } finally {
      loading.value = false;
    }
  }

  async function setAction(value: string): Promise<void> {
    action.value = value;
    await load();
  }

  async function exportLog(): Promise<void> {
    exporting.value = true;
    try {
      const saved = await call('audit.export', {});
      if (saved.path !== null) ui.notify('success', 'Exported', `${saved.entries} log entries saved to ${saved.path}`);
    } catch (e) {
      ui.report(e, 'Export failed');
    } finally {
      exporting.value = false;
    }
  }

  function clear(): void {
    entries.value = [];
    verification.value = null;
    privacy.value = null;
  }

  return { entries, action, actions, verification, privacy, loading, exporting, load, setAction, exportLog, clear };
});
