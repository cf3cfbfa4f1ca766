import { defineStore } from 'pinia';
import type { Req } from '../../../src-preload/contract.ts';
import { computed, ref } from 'vue';
import type { PresetInfo, Role, SessionStatus } from '../api/types.ts';
import { asFailure, call, sentence } from '../api/client.ts';
import { runningJobs } from '../api/jobs.ts';
import { useUiStore } from './ui.ts';

/**
 * The decryption key should not stay in memory on an unattended workstation. Shorter than the services' own
 * idle lock, which only sees API calls: someone reading a results table makes none but is not away.
 */
export const IDLE_LOCK_MS = 10 * 60 * 1000;
/** While the user is active, status is re-read this often: it keeps the services' session alive and shows a lock made there. */
const SYNC_MS = 60 * 1000;
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

export type CreateRequest = Req<'keys.create'>;
export type UnlockRequest = Req<'keys.unlock'>;

export const useSessionStore = defineStore('session', () => {
  const ui = useUiStore();
  const status = ref<SessionStatus | null>(null);
  const presets = ref<PresetInfo[]>([]);
  const loading = ref(false);
  const busy = ref(false);
  /** Why the last credential did not open the key set, shown under the passphrase field (not as a banner). */
  const credentialError = ref<string | null>(null);
  const lastActivity = ref(Date.now());
  const now = ref(Date.now());
  let lastSync = 0;

  const unlocked = computed(() => status.value?.unlocked === true);
  const role = computed<Role | null>(() => (unlocked.value ? (status.value?.role ?? null) : null));
  const keySet = computed(() => status.value?.keySet ?? null);
  // `now` ticks once a second, so right after activity it can trail lastActivity: never show more than the limit.
  const idleRemainingMs = computed(() => Math.min(IDLE_LOCK_MS, IDLE_LOCK_MS - (now.value - lastActivity.value)));

  async function refresh(): Promise<void> {
    loading.value = true;
    lastSync = Date.now();
    try {
      status.value = await call('session.status', {});
    } catch (e) {
      ui.report(e, 'Could not read the workspace');
    } finally {
      loading.value = false;
    }
  }

  async function loadPresets(): Promise<void> {
    try {
      presets.value = await call('presets.list', {});
    } catch (e) {
      ui.report(e, 'Could not list the key presets');
    }
  }

  async function create(req: CreateRequest): Promise<boolean> {
    return enter(() => call('keys.create', req), 'Could not create the key set');
  }

  async function unlock(req: UnlockRequest): Promise<boolean> {
    return enter(() => call('keys.unlock', req), 'Could not unlock the key set');
  }

  async function enter(action: () => Promise<SessionStatus>, failureTitle: string): Promise<boolean> {
    busy.value = true;
    credentialError.value = null;
    try {
      status.value = await action();
      lastSync = Date.now();
      lastActivity.value = lastSync;
      return status.value.unlocked;
    } catch (e) {
      // A credential that does not open the vault belongs under the passphrase field, in words for people.
      const failure = asFailure(e);
      if (failure.name === 'VaultError' && /wrong passphrase/i.test(failure.message)) {
        credentialError.value = 'Wrong passphrase for this key set (or its vault file was altered). Check it and try again.';
      } else if (failure.name === 'VaultError') credentialError.value = sentence(failure.message);
      else ui.report(e, failureTitle);
      return false;
    } finally {
      busy.value = false;
    }
  }

  async function lock(reason?: string): Promise<void> {
    try {
      status.value = await call('keys.lock', {});
      if (reason) ui.notify('info', 'Locked', reason);
    } catch (e) {
      ui.report(e, 'Could not lock the key set');
    }
  }

  function touch(): void {
    lastActivity.value = Date.now();
    if (unlocked.value && lastActivity.value - lastSync > SYNC_MS) void refresh();
  }

  function tick(): void {
    now.value = Date.now();
    // A running job counts as activity: locking would abort it, and its end should not trigger an instant lock.
    if (runningJobs.value > 0) touch();
    else if (unlocked.value && idleRemainingMs.value <= 0) {
      void lock(`The key set was locked after ${IDLE_LOCK_MS / 60_000} minutes without activity.`);
    }
  }

  /** Watches user activity and locks when idle; returns the function that stops watching. */
  function startIdleWatch(): () => void {
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, touch, { passive: true });
    const timer = window.setInterval(tick, 1000);
    return () => {
      window.clearInterval(timer);
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, touch);
    };
  }

  return {
    credentialError,
    status,
    presets,
    loading,
    busy,
    unlocked,
    role,
    keySet,
    idleRemainingMs,
    refresh,
    loadPresets,
    create,
    unlock,
    lock,
    touch,
    startIdleWatch,
  };
});
