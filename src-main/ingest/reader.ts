import { createHash } from 'node:crypto';
import { abortError, IssueLog, MalformedCsvError } from './errors.ts';
import { PASS_POSITIVE } from './labels.ts';
import { isBlank, preparePlan, type Layout } from './plan.ts';
import { csvRows } from './source.ts';
import type { ColumnPlan, IngestOptions, ReadSummary, RecordChunk } from './types.ts';
import { isMissing } from './values.ts';

const DEFAULT_CHUNK_ROWS = 4096;

export function readRecords(
  path: string,
  options: IngestOptions = {},
): { plan: Promise<ColumnPlan>; chunks: AsyncGenerator<RecordChunk, ReadSummary> } {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new RangeError('chunkRows must be a positive integer');
  const prepared = preparePlan(path, options);
  const plan = prepared.then(({ plan }) => plan);
  // Either promise may go unawaited (a caller that only iterates chunks, or only looks at the plan); the failure
  // still reaches whoever awaits, but must not crash the process as an unhandled rejection.
  prepared.catch(() => undefined);
  plan.catch(() => undefined);
  return { plan, chunks: readChunks(path, prepared, chunkRows, options.signal) };
}

export async function readAll(
  path: string,
  options: IngestOptions = {},
): Promise<{ plan: ColumnPlan; data: RecordChunk; summary: ReadSummary }> {
  const reading = readRecords(path, options);
  const parts: RecordChunk[] = [];
  for (;;) {
    const next = await reading.chunks.next();
    if (next.done) {
      const plan = await reading.plan;
      return { plan, data: concatChunks(parts, plan.features.length, plan.label !== null), summary: next.value };
    }
    parts.push(next.value);
  }
}

async function* readChunks(
  path: string,
  prepared: Promise<{ layout: Layout }>,
  chunkRows: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<RecordChunk, ReadSummary> {
  const { layout } = await prepared;
  const hash = createHash('sha256');
  const issues = new IssueLog(layout.file);
  const rowReader = new RowReader(layout, issues);
  let chunk = new ChunkBuilder(layout, chunkRows);
  let headerSeen = false;
  let rows = 0;
  let dropped = 0;
  try {
    for await (const { line, fields } of csvRows(path, layout.delimiter, { file: layout.file, signal, hash })) {
      if (isBlank(fields)) continue;
      if (!headerSeen) {
        headerSeen = true;
        continue;
      }
      const outcome = rowReader.read(line, fields);
      if (outcome === 'dropped') dropped++;
      if (outcome !== 'ok' || issues.total > 0) continue;
      chunk.push(line, rowReader);
      rows++;
      if (chunk.size === chunkRows) {
        yield chunk.finish();
        if (signal?.aborted) throw abortError(layout.file);
        chunk = new ChunkBuilder(layout, chunkRows);
      }
    }
  } catch (error) {
    if (!(error instanceof MalformedCsvError)) throw error;
    issues.add(error.line, null, error.message);
  }
  // Once any row is bad the file will be rejected, so rows after it are only validated: the caller should not
  // spend encryption time on data its transaction will roll back.
  if (issues.total > 0) throw issues.toError();
  if (chunk.size > 0) yield chunk.finish();
  return { rows, dropped, sha256: hash.digest('hex') };
}

type RowOutcome = 'ok' | 'dropped' | 'invalid';

/** Validates one record; on success its converted values stay in the reader's buffers until the next record. */
class RowReader {
  readonly layout: Layout;
  readonly issues: IssueLog;
  readonly values: Float64Array;
  label = Number.NaN;
  hospitalId = '';
  patientId = '';
  // Whole-file duplicate detection needs every id seen; the map holds ids and first rows, never feature values.
  private readonly firstRowOfPatient = new Map<string, number>();

  constructor(layout: Layout, issues: IssueLog) {
    this.layout = layout;
    this.issues = issues;
    this.values = new Float64Array(layout.featureCount);
  }

  read(line: number, fields: readonly string[]): RowOutcome {
    const { layout, issues } = this;
    // Trailing delimiters with nothing after them are common in spreadsheet exports and carry no data.
    if (fields.length < layout.width || fields.some((field, index) => index >= layout.width && field !== '')) {
      issues.add(line, null, `has ${fields.length} fields but the header has ${layout.width}`);
      return 'invalid';
    }
    let invalid = false;
    let missing = false;
    const absent = (column: string): void => {
      if (layout.missing === 'drop') missing = true;
      else {
        issues.add(line, column, 'missing value');
        invalid = true;
      }
    };

    this.values.fill(Number.NaN);
    for (const field of layout.fields) {
      const outcome = field.read(fields[field.index] ?? '', this.values);
      if (outcome.kind === 'missing') absent(field.column);
      else if (outcome.kind === 'invalid') {
        issues.add(line, field.column, outcome.problem);
        invalid = true;
      }
    }
    const pair = layout.pressurePair;
    if (pair && (this.values[pair.diastolic] ?? Number.NaN) >= (this.values[pair.systolic] ?? Number.NaN)) {
      issues.add(line, pair.column, 'diastolic pressure is not below systolic');
      invalid = true;
    }

    this.hospitalId = layout.defaultHospital;
    if (layout.hospital) {
      const text = (fields[layout.hospital.index] ?? '').trim();
      if (isMissing(text)) absent(layout.hospital.column);
      else this.hospitalId = text;
    }
    this.patientId = `${layout.fileStem}-${line}`;
    if (layout.patient) {
      const text = (fields[layout.patient.index] ?? '').trim();
      if (isMissing(text)) absent(layout.patient.column);
      else {
        this.patientId = text;
        const key = `${this.hospitalId}\u0000${text}`;
        const first = this.firstRowOfPatient.get(key);
        if (first === undefined) this.firstRowOfPatient.set(key, line);
        else {
          issues.add(line, layout.patient.column, `duplicate patient id (first seen on row ${first})`);
          invalid = true;
        }
      }
    }

    if (layout.label) {
      const value = layout.label.read(fields[layout.label.index] ?? '');
      if (value === null) {
        issues.add(line, layout.label.column, `label value not recognised; ${PASS_POSITIVE}`);
        invalid = true;
      } else this.label = value;
    }
    return invalid ? 'invalid' : missing ? 'dropped' : 'ok';
  }
}

class ChunkBuilder {
  size = 0;
  readonly rowNumbers: Uint32Array;
  readonly hospitalIds: string[] = [];
  readonly patientIds: string[] = [];
  readonly values: Float64Array[];
  readonly labels: Float64Array | null;

  constructor(layout: Layout, capacity: number) {
    this.rowNumbers = new Uint32Array(capacity);
    this.values = Array.from({ length: layout.featureCount }, () => new Float64Array(capacity));
    this.labels = layout.label ? new Float64Array(capacity) : null;
  }

  push(line: number, row: RowReader): void {
    const at = this.size++;
    this.rowNumbers[at] = line;
    this.hospitalIds.push(row.hospitalId);
    this.patientIds.push(row.patientId);
    this.values.forEach((column, feature) => {
      column[at] = row.values[feature] ?? Number.NaN;
    });
    if (this.labels) this.labels[at] = row.label;
  }

  finish(): RecordChunk {
    const n = this.size;
    return {
      rowNumbers: this.rowNumbers.subarray(0, n),
      hospitalIds: this.hospitalIds,
      patientIds: this.patientIds,
      values: this.values.map((column) => column.subarray(0, n)),
      labels: this.labels?.subarray(0, n) ?? null,
    };
  }
}

function concatChunks(parts: readonly RecordChunk[], featureCount: number, hasLabel: boolean): RecordChunk {
  const total = parts.reduce((sum, part) => sum + part.rowNumbers.length, 0);
  const data: RecordChunk = {
    rowNumbers: new Uint32Array(total),
    hospitalIds: [],
    patientIds: [],
    values: Array.from({ length: featureCount }, () => new Float64Array(total)),
    labels: hasLabel ? new Float64Array(total) : null,
  };
  let offset = 0;
  for (const part of parts) {
    data.rowNumbers.set(part.rowNumbers, offset);
    for (const id of part.hospitalIds) data.hospitalIds.push(id);
    for (const id of part.patientIds) data.patientIds.push(id);
    part.values.forEach((column, feature) => data.values[feature]?.set(column, offset));
    if (part.labels) data.labels?.set(part.labels, offset);
    offset += part.rowNumbers.length;
  }
  return data;
}
