import type { Metrics } from './api/types.ts';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** null stands for an undefined metric (AUC when the labels hold one class). */
/** "1 hospital", "1,600 hospitals": a count with its noun agreeing. */
export function formatCount(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatInt(n)} ${n === 1 ? singular : plural}`;
}

export function formatFixed(n: number | null, digits = 2): string {
  if (n === null) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Errors of CKKS approximations span many orders of magnitude: fixed digits would show most of them as 0. */
export function formatSmall(n: number): string {
  if (n === 0) return '0';
  return Math.abs(n) < 0.001 ? n.toExponential(1) : n.toFixed(4);
}

export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}

export type MetricKey = keyof Omit<Metrics, 'confusion'>;

/** One way to write each metric wherever it appears (cards, tables): rates as percentages, scores to 3 decimals. */
export function formatMetric(key: MetricKey, value: number | null): string {
  return value !== null && (key === 'accuracy' || key === 'precision' || key === 'recall') ? formatPercent(value) : formatFixed(value, 3);
}

/** The headline metrics as cards: the Evaluation screen and a report's preview show them alike. */
export function metricCards(m: Metrics): { label: string; value: string; hint: string }[] {
  const card = (key: MetricKey, label: string, hint: string) => ({ label, value: formatMetric(key, m[key]), hint });
  return [
    card('accuracy', 'Accuracy', 'correct at-risk decisions'),
    card('precision', 'Precision', 'flagged patients truly at risk'),
    card('recall', 'Recall', 'at-risk patients flagged'),
    card('f1', 'F1', 'balance of precision and recall'),
    card('auc', 'ROC-AUC', 'ranking quality, 0.5 is chance'),
    card('brier', 'Brier score', 'mean squared error of the probabilities, 0 is perfect'),
  ];
}

/** To the second: the activity log's entries come seconds apart. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/** Same grouping as the CLI and the header (XXXX-XXXX-XXXX-XXXX), so fingerprints can be compared by eye. */
export function shortFingerprint(fingerprint: string): string {
  return (fingerprint.slice(0, 16).toUpperCase().match(/.{1,4}/g) ?? []).join('-');
}

export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
