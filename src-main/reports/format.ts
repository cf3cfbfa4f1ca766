/*
 * Text of the HTML and PDF reports. Unlike the app's display formats these never depend on the machine's
 * locale or time zone: a report must read (and hash) the same wherever it is generated.
 */

/** "2025-01-10 10:15:00 UTC" from an ISO-8601 timestamp; anything else is shown as stored. */
export function utc(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso;
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** null stands for an undefined metric (AUC when the labels hold one class). */
export function fixed(n: number | null, digits: number): string {
  return n === null ? 'n/a' : n.toFixed(digits);
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

/** Model parameters span orders of magnitude: six significant digits, never a rounded-away zero. */
export function real(n: number): string {
  return Number(n.toPrecision(6)).toString();
}

export function bytes(n: number): string {
  if (n < 1024) return `${int(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
