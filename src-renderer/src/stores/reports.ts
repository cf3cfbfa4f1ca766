import { defineStore } from 'pinia';
import { ref } from 'vue';
import { asFailure, call, sentence } from '../api/client.ts';
import type { GeneratedReport, PrivacyStatus, ReportFormat, ReportVerification } from '../api/types.ts';
import { shortFingerprint } from '../format.ts';
import { useUiStore } from './ui.ts';

/** A Record, so a format added to the contract does not compile until it is described here too. */
export const FORMAT_INFO: Readonly<Record<ReportFormat, { label: string; hint: string }>> = {
  pdf: { label: 'PDF', hint: 'to print and file' },
  html: { label: 'HTML', hint: 'one self-contained page, charts included' },
  json: { label: 'JSON', hint: 'the machine-readable twin' },
};
export const REPORT_FORMATS = Object.keys(FORMAT_INFO) as readonly ReportFormat[];

export const useReportsStore = defineStore('reports', () => {
  const ui = useUiStore();
  const formats = ref<ReportFormat[]>([...REPORT_FORMATS]);
  const report = ref<GeneratedReport | null>(null);
  const verification = ref<ReportVerification | null>(null);
  const generating = ref(false);
  const verifying = ref(false);
  const savingKey = ref(false);
  /** Why the last generation or verification failed, shown beside its button (JobError), not in a banner. */
  const generateError = ref<string | null>(null);
  const verifyError = ref<string | null>(null);
  /** The release rule and ledger a report states, shown before one is generated too. */
  const privacy = ref<PrivacyStatus | null>(null);

  async function loadPrivacy(): Promise<void> {
    try {
      privacy.value = await call('privacy.status', {});
    } catch (e) {
      ui.report(e, 'Could not read the release rule');
    }
  }

  /** Asks main for a folder and writes the report there; a cancelled dialog leaves the last report shown. */
  async function generate(passphrase: string | undefined): Promise<void> {
    if (generating.value) return;
    generating.value = true;
    generateError.value = null;
    try {
      const made = await call('reports.generate', { formats: [...formats.value], ...(passphrase ? { passphrase } : {}) });
      if (made !== null) {
        report.value = made;
        verification.value = null;
      }
    } catch (e) {
      generateError.value = sentence(asFailure(e).message);
    } finally {
      generating.value = false;
    }
  }

  /** 'last': the report just generated; 'folder': one the user picks, checked against this workspace's report keys. */
  async function verify(source: 'last' | 'folder' = 'last'): Promise<void> {
    verifying.value = true;
    verifyError.value = null;
    try {
      const v = await call('reports.verify', { source });
      if (v !== null) verification.value = v;
    } catch (e) {
      verifyError.value = sentence(asFailure(e).message);
    } finally {
      verifying.value = false;
    }
  }

  async function saveKey(): Promise<void> {
    savingKey.value = true;
    try {
      const saved = await call('reports.publicKey', {});
      if (saved.path !== null) {
        ui.notify('success', 'Verification key saved', `Public key ${shortFingerprint(saved.fingerprint)} saved to ${saved.path}`);
      }
    } catch (e) {
      ui.report(e, 'Could not save the verification key');
    } finally {
      savingKey.value = false;
    }
  }

  function clear(): void {
    generateError.value = null;
    verifyError.value = null;
    report.value = null;
    verification.value = null;
    privacy.value = null;
  }

  return { formats, report, verification, privacy, generating, verifying, savingKey, generateError, verifyError, loadPrivacy, generate, verify, saveKey, clear };
});
