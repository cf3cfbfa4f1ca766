import { basename, dirname, extname, join } from 'node:path';
import { writeFileAtomic } from '../common/files.ts';
import type { ReadSummary } from '../ingest/index.ts';

/** Where an import's rejected rows were reported, beside the file they came from. */
export interface RejectsWritten {
  report: string;
  rejectsCsv: string | null;
}

/** RFC 4180 quoting, nothing more: the rejects CSV gives back the user's own rows as they were, to fix and re-import. */
function field(text: string): string {
  return /[",;\t\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes the rejects report beside the input: each skipped row's problems by file row number and column, no cell
 * value. With the user's consent (rejectsCsv), also the rejected rows themselves, header first, for fixing and
 * re-importing; both files are the owner's alone (0600), like every file this app writes.
 */
export async function writeRejects(input: string, rejected: ReadSummary['rejected'], delimiter: string): Promise<RejectsWritten> {
  const stem = join(dirname(input), basename(input, extname(input)));
  const report = `${stem}.rejects.txt`;
  const lines = [
    `${basename(input)}: ${rejected.rows} row(s) skipped as invalid; the valid rows were imported.`,
    'Rows are the file\'s line numbers (the header is line 1). No cell value is listed here.',
    '',
    ...rejected.issues.map((i) => i.message),
  ];
  if (rejected.issues.length < rejected.rows) lines.push(`… the list stops at ${rejected.issues.length} problems`);
  await writeFileAtomic(report, `${lines.join('\n')}\n`);
  let rejectsCsv: string | null = null;
  if (rejected.cells) {
    rejectsCsv = `${stem}.rejects.csv`;
    await writeFileAtomic(rejectsCsv, `${rejected.cells.map((row) => row.map(field).join(delimiter)).join('\r\n')}\r\n`);
  }
  return { report, rejectsCsv };
}
