import { defineStore } from 'pinia';
import type { JobState } from '../api/jobs.ts';
import { computed, ref, watchEffect } from 'vue';
import { asFailure, sentence } from '../api/client.ts';

export type BannerKind = 'error' | 'info' | 'success';

export interface Banner {
  id: number;
  kind: BannerKind;
  title: string;
  message: string;
}

export type ThemePreference = 'system' | 'light' | 'dark';

const THEME_KEY = 'homopai.theme';
const THEME_ORDER: readonly ThemePreference[] = ['system', 'light', 'dark'];

function storedTheme(): ThemePreference {
  const saved = globalThis.localStorage?.getItem(THEME_KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

/** Banners and theme: app-wide presentation state that every view shares. */
export const useUiStore = defineStore('ui', () => {
  const banners = ref<Banner[]>([]);
  let nextId = 1;

  function notify(kind: BannerKind, title: string, message: string): void {
    banners.value.push({ id: nextId++, kind, title, message });
  }

  /** Shows a failure as a banner; a cancellation is the user's own choice, so it is news, not an error. */
  function report(error: unknown, title: string): void {
    const failure = asFailure(error);
    if (failure.name === 'CancelledError') notify('info', 'Cancelled', sentence(failure.message));
    else notify('error', title, sentence(failure.message));
  }

  /** A job's failure: shown beside its button when runJob recorded it there, as a banner otherwise (a cancellation). */
  function reportJob(job: JobState, error: unknown, title: string): void {
    if (job.error === null) report(error, title);
  }

  function dismiss(id: number): void {
    banners.value = banners.value.filter((b) => b.id !== id);
  }

  function dismissLatest(): boolean {
    if (banners.value.length === 0) return false;
    banners.value = banners.value.slice(0, -1);
    return true;
  }

  const themePreference = ref<ThemePreference>(storedTheme());
  const media = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const systemDark = ref(media?.matches ?? false);
  media?.addEventListener('change', (e) => (systemDark.value = e.matches));
  const dark = computed(() => (themePreference.value === 'system' ? systemDark.value : themePreference.value === 'dark'));

  watchEffect(() => {
    document.documentElement.dataset['theme'] = dark.value ? 'dark' : 'light';
  });

  function cycleTheme(): void {
    const i = THEME_ORDER.indexOf(themePreference.value);
    themePreference.value = THEME_ORDER[(i + 1) % THEME_ORDER.length]!;
    globalThis.localStorage?.setItem(THEME_KEY, themePreference.value);
  }

  return { banners, notify, report, reportJob, dismiss, dismissLatest, themePreference, dark, cycleTheme };
});
