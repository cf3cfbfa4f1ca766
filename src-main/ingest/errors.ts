import type { RowIssue } from './types.ts';

// Issues travel to logs and over IPC, so a bounded sample is kept while every issue is still counted.
const MAX_KEPT_ISSUES = 50;

export class CsvValidationError extends Error {
  file: string;
  issues: RowIssue[];
  totalIssues: number;

  constructor(file: string, issues: RowIssue[], totalIssues: number) {
    const first = issues[0]?.message ?? 'unknown problem';
    const more = totalIssues > 1 ? ` (${totalIssues} issues in total)` : '';
    super(`${file}: ${first}${more}`);
    this.name = 'CsvValidationError';
    this.file = file;
    this.issues = issues;
    this.totalIssues = totalIssues;
  }
}

/** A rejects report lists every skipped row's problems up to this many (a count covers the rest). */
export const MAX_REPORTED_ISSUES = 100_000;

/** Collects row issues; messages are built from positions and rules only, never from cell text. */
export class IssueLog {
  readonly file: string;
  readonly kept: RowIssue[] = [];
  /** With invalid rows skipped: every issue for the rejects report (bounded), not only the first ones. */
  readonly report: RowIssue[] | null;
  total = 0;

  constructor(file: string, report = false) {
    this.file = file;
    this.report = report ? [] : null;
  }

  add(row: number, column: string | null, problem: string): void {
    this.total++;
    const issue = { file: this.file, row, column, problem, message: describe(row, column, problem) };
    if (this.kept.length < MAX_KEPT_ISSUES) this.kept.push(issue);
    if (this.report && this.report.length < MAX_REPORTED_ISSUES) this.report.push(issue);
  }

  toError(): CsvValidationError {
    return new CsvValidationError(this.file, this.kept, this.total);
  }
}

function describe(row: number, column: string | null, problem: string): string {
  const where = [row > 0 ? `row ${row}` : null, column === null ? null : `column "${column}"`];
  const located = where.filter((part) => part !== null).join(', ');
  return located === '' ? problem : `${located}: ${problem}`;
}

/**
 * A problem with the file as a whole (its header, or what the sample shows about a column). Row 0, the default,
 * marks it as not belonging to one line.
 */
export function planError(file: string, column: string | null, problem: string, row = 0): CsvValidationError {
  const log = new IssueLog(file);
  log.add(row, column, problem);
  return log.toError();
}

/** Thrown when the caller's AbortSignal fires, whatever reason it carried, so callers can test one name. */
export function abortError(file: string): DOMException {
  return new DOMException(`reading ${file} was aborted`, 'AbortError');
}

/** csv-parse stopped on broken quoting; carries only the line and a description safe to log. */
export class MalformedCsvError extends Error {
  line: number;

  constructor(line: number, problem: string) {
    super(problem);
    this.name = 'MalformedCsvError';
    this.line = line;
  }
}
