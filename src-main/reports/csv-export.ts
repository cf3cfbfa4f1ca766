/**
 * CSV for spreadsheets. A cell starting with = + - @ tab or carriage return is prefixed with an apostrophe so
 * Excel/LibreOffice read it as text, not a formula (OWASP CSV injection guidance). Numbers are written as
 * numbers: a negative number is data, not a formula.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  let s = value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) || s !== value ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
