import { basename } from 'node:path';
import type { ImportCheck } from '../../src-preload/contract.ts';
import { CancelledError, type JobHooks } from '../common/jobs.ts';
import { CsvValidationError, type IngestOptions, readRecords } from '../ingest/index.ts';

// Enough of the problems to fix a file by; the count covers the rest.
const SHOWN_ISSUES = 50;
const CHECK_CHUNK_ROWS = 4096;

/**
 * Reads every row of a CSV and checks it as an import would (columns, units, ranges, labels, missing values),
 * encrypting and storing nothing: what an import would refuse is found before one is started. Values stay in
 * this process and are dropped chunk by chunk; only counts and problems (positions and rules) come back.
 */
export async function checkCsv(path: string, options: IngestOptions = {}, hooks: JobHooks = {}): Promise<ImportCheck> {
  const file = basename(path);
  try {
    const { plan, chunks } = readRecords(path, { ...options, invalid: 'skip', keepRejectedRows: false, chunkRows: CHECK_CHUNK_ROWS, signal: hooks.signal });
    await plan;
    let rows = 0;
    for (;;) {
      const next = await chunks.next();
      if (next.done) {
        const { rejected, dropped } = next.value;
        return { file, rows, dropped, invalidRows: rejected.rows, issues: rejected.issues.slice(0, SHOWN_ISSUES), totalIssues: rejected.issues.length };
      }
      rows += next.value.rowNumbers.length;
      // The chunk's values are not kept: zeroed before the next one is read.
      for (const column of next.value.values) column.fill(0);
      next.value.labels?.fill(0);
      hooks.onProgress?.({ phase: 'checking', done: rows, total: null });
    }
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw new CancelledError(`checking ${file}`, 'nothing was stored');
    // A problem with the file as a whole (header, column plan) is an answer too.
    if (e instanceof CsvValidationError) return { file, rows: 0, dropped: 0, invalidRows: 0, issues: e.issues.slice(0, SHOWN_ISSUES), totalIssues: e.totalIssues };
    throw e;
  }
}
