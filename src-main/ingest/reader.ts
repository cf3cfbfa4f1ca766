import { createHash } from 'node:crypto';
import { abortError, IssueLog, MalformedCsvError } from './errors.ts';
import { PASS_POSITIVE } from './labels.ts';
import { isBlank, preparePlan, type Layout } from './plan.ts';
import { parseRecords } from './source.ts';
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
  return { plan, chunks: readChunks(path, prepared, chunkRows, options) };
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
  options: IngestOptions,
): AsyncGenerator<RecordChunk, ReadSummary> {
  const { layout } = await prepared;
  const { signal } = options;
  const skip = options.invalid === 'skip';
  const hash = createHash('sha256');
  const issues = new IssueLog(layout.file, skip);
  let rejected = 0;
  let broken = false;
  const rejectedCells: string[][] | null = skip && options.keepRejectedRows ? [] : null;
  const rowReader = new RowReader(layout, issues);
  let chunk = new ChunkBuilder(layout, chunkRows);
  // Chunks completed by the records of the current piece of the file, handed out before the next piece is read.
  const completed: RecordChunk[] = [];
  let headerSeen = false;
  let rows = 0;
  let dropped = 0;
  const onRecord = (line: number, fields: string[]): void => {
    if (isBlank(fields)) return;
    if (!headerSeen) {
      headerSeen = true;
      rejectedCells?.push([...fields]);
      return;
    }
    const outcome = rowReader.read(line, fields);
    if (outcome === 'dropped') dropped++;
    if (outcome === 'invalid' && skip) {
      rejected++;
      rejectedCells?.push([...fields]);
    }
    // Once any row is bad a rejecting read will fail, so rows after it are only validated: the caller should not
    // spend encryption time on data its transaction will roll back.
    if (outcome !== 'ok' || (!skip && issues.total > 0)) return;
    chunk.push(line, rowReader);
    rows++;
    if (chunk.size === chunkRows) {
      completed.push(chunk.finish());
      chunk = new ChunkBuilder(layout, chunkRows);
    }
  };
  // The signal is checked after each chunk because the caller may spend a long time on one.
  async function* handOut(): AsyncGenerator<RecordChunk, void> {
    for (const next of completed.splice(0)) {
      yield next;
      if (signal?.aborted) throw abortError(layout.file);
    }
  }

  try {
    // Each step parses one piece of the file, passing its records to onRecord.
    for await (const _ of parseRecords(path, layout.delimiter, { file: layout.file, signal, hash }, onRecord)) {
      yield* handOut();
    }
  } catch (error) {
    if (!(error instanceof MalformedCsvError)) throw error;
    issues.add(error.line, null, error.message);
    broken = true;
  }
  // Chunks completed by the last records, also those before a broken line: they precede the error in the file.
  yield* handOut();
  // A file whose reading stopped (broken quoting) is rejected even when invalid rows are skipped: what follows the
  // break was never read.
  if (broken || (!skip && issues.total > 0)) throw issues.toError();
  if (chunk.size > 0) yield chunk.finish();
  return { rows, dropped, sha256: hash.digest('hex'), rejected: { rows: rejected, issues: issues.report ?? [], cells: rejectedCells } };
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
  // Rows share one copy of each hospital id: copies kept per row would outlive the garbage collector's young
  // generation, which then copies them again.
  private readonly hospitals = new Map<string, Hospital>();
  private readonly defaultHospital: Hospital;
  // Whole-file duplicate detection needs every id seen; it holds ids and first rows, never feature values.
  private readonly firstRows = new FirstRows();

  constructor(layout: Layout, issues: IssueLog) {
    this.layout = layout;
    this.issues = issues;
    this.values = new Float64Array(layout.featureCount);
    this.defaultHospital = this.hospitalNamed(layout.defaultHospital);
  }

  read(line: number, fields: readonly string[]): RowOutcome {
    const { layout, issues, values } = this;
    if (!fitsHeader(fields, layout.width)) {
      issues.add(line, null, `has ${fields.length} fields but the header has ${layout.width}`);
      return 'invalid';
    }
    // Every problem in the row is one issue, so comparing counts tells whether the row is invalid.
    const issuesBefore = issues.total;
    let missing = false;

    values.fill(Number.NaN);
    for (const field of layout.fields) {
      const outcome = field.read(fields[field.index] ?? '', values);
      if (outcome.kind === 'missing') missing = this.absent(line, field.column) || missing;
      else if (outcome.kind === 'invalid') issues.add(line, field.column, outcome.problem);
    }
    const pair = layout.pressurePair;
    if (pair && (values[pair.diastolic] ?? Number.NaN) >= (values[pair.systolic] ?? Number.NaN)) {
      issues.add(line, pair.column, 'diastolic pressure is not below systolic');
    }

    let hospital = this.defaultHospital;
    if (layout.hospital) {
      const text = (fields[layout.hospital.index] ?? '').trim();
      if (isMissing(text)) missing = this.absent(line, layout.hospital.column) || missing;
      else hospital = this.hospitalNamed(text);
    }
    this.hospitalId = hospital.id;
    if (layout.patient) {
      const text = (fields[layout.patient.index] ?? '').trim();
      if (isMissing(text)) missing = this.absent(line, layout.patient.column) || missing;
      else {
        this.patientId = text;
        const first = this.firstRows.claim(hospital, text, line);
        const column = layout.patient.column;
        if (first !== undefined) issues.add(line, column, `duplicate patient id (first seen on row ${first})`);
      }
    } else this.patientId = `${layout.fileStem}-${line}`;

    if (layout.label) {
      const value = layout.label.read(fields[layout.label.index] ?? '');
      if (value === null) issues.add(line, layout.label.column, `label value not recognised; ${PASS_POSITIVE}`);
      else this.label = value;
    }
    return issues.total > issuesBefore ? 'invalid' : missing ? 'dropped' : 'ok';
  }

  /** A missing cell is an issue, or with missing 'drop' makes the row dropped; returns whether it drops the row. */
  private absent(line: number, column: string): boolean {
    if (this.layout.missing === 'drop') return true;
    this.issues.add(line, column, 'missing value');
    return false;
  }

  private hospitalNamed(id: string): Hospital {
    let hospital = this.hospitals.get(id);
    if (hospital === undefined) {
      hospital = { id, number: this.hospitals.size, lastPatientId: undefined };
      this.hospitals.set(id, hospital);
    }
    return hospital;
  }
}

interface Hospital {
  id: string;
  /** Stands for the id in FirstRows' tables. */
  number: number;
  /** The largest patient id so far, while FirstRows sees ids in increasing order. */
  lastPatientId: string | undefined;
}

/**
 * The first row of each hospital and patient id pair, for whole-file duplicate detection. Pairs are equal when
 * `${hospital}\0${patient}` would be: a NUL-free pair spells a key with exactly one NUL, so it can only equal a pair
 * with the same two ids, and the rare pairs containing NUL spell keys with more and get a map of their own.
 *
 * A Map holding a million string keys kept the garbage collector copying and rescanning them for the whole read,
 * which cost more than parsing the file. Instead patient ids are copied into one growing character array in arrival
 * order, a byte per character until an id needs more. Exports usually list each hospital's patients in id order,
 * and while they do a new id only has to sort after its hospital's last one. The first id out of order builds an
 * open-addressing hash table over the ids so far, which then answers every claim.
 */
class FirstRows {
  private chars: Uint8Array | Uint16Array = new Uint8Array(1 << 12);
  private charCount = 0;
  /** Per entry, ENTRY_FIELDS numbers: its hospital's number, its first row and where its id ends in `chars`. */
  private entries = new Uint32Array(ENTRY_FIELDS << 10);
  private size = 0;
  /**
   * Null while ids arrive in order. Then pairs of (entry hash, entry number + 1), the latter 0 when the slot is
   * free; the hash sits next to the entry so a probe touches one place in this large, randomly read table. At most
   * half full, so probe runs stay short.
   */
  private slots: Uint32Array | null = null;
  private readonly withNul = new Map<string, number>();

  /** Returns the row recorded first for the pair, or records `row` as that and returns undefined. */
  claim(hospital: Hospital, patientId: string, row: number): number | undefined {
    if (hospital.id.includes(NUL) || patientId.includes(NUL)) {
      const key = `${hospital.id}${NUL}${patientId}`;
      const first = this.withNul.get(key);
      if (first === undefined) this.withNul.set(key, row);
      return first;
    }
    if (this.slots === null) {
      const last = hospital.lastPatientId;
      if (last === undefined || patientId > last) {
        hospital.lastPatientId = patientId;
        this.append(hospital.number, patientId, row);
        return undefined;
      }
      this.slots = this.indexed(new Uint32Array(2 ** Math.ceil(Math.log2(Math.max(INITIAL_SLOTS, this.size * 4)))));
    }
    return this.lookUp(hospital.number, patientId, row, this.slots);
  }

  private lookUp(hospital: number, patientId: string, row: number, slots: Uint32Array): number | undefined {
    let hash = fnvStep(FNV_OFFSET, hospital);
    for (let index = 0; index < patientId.length; index++) hash = fnvStep(hash, patientId.charCodeAt(index));
    hash = finishHash(hash);
    const mask = slots.length / 2 - 1;
    let slot = hash & mask;
    for (let held = slots[2 * slot + 1] ?? 0; held !== 0; held = slots[2 * slot + 1] ?? 0) {
      if (slots[2 * slot] === hash && this.holds(held - 1, hospital, patientId)) {
        return this.entries[(held - 1) * ENTRY_FIELDS + 1];
      }
      slot = (slot + 1) & mask;
    }
    this.append(hospital, patientId, row);
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = this.size;
    if (this.size * 4 > slots.length) this.slots = this.indexed(new Uint32Array(slots.length * 2));
    return undefined;
  }

  /** Fills empty `slots` with every entry. */
  private indexed(slots: Uint32Array): Uint32Array {
    const mask = slots.length / 2 - 1;
    for (let entry = 0; entry < this.size; entry++) {
      let hash = fnvStep(FNV_OFFSET, this.entries[entry * ENTRY_FIELDS] ?? 0);
      for (let at = this.idStart(entry); at < this.idEnd(entry); at++) hash = fnvStep(hash, this.chars[at] ?? 0);
      hash = finishHash(hash);
      let slot = hash & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = entry + 1;
    }
    return slots;
  }

  private holds(entry: number, hospital: number, patientId: string): boolean {
    const start = this.idStart(entry);
    if (this.entries[entry * ENTRY_FIELDS] !== hospital || this.idEnd(entry) - start !== patientId.length) return false;
    for (let index = 0; index < patientId.length; index++) {
      if (this.chars[start + index] !== patientId.charCodeAt(index)) return false;
    }
    return true;
  }

  private idStart(entry: number): number {
    return entry === 0 ? 0 : this.idEnd(entry - 1);
  }

  private idEnd(entry: number): number {
    return this.entries[entry * ENTRY_FIELDS + 2] ?? 0;
  }

  private append(hospital: number, patientId: string, row: number): void {
    if ((this.size + 1) * ENTRY_FIELDS > this.entries.length) this.entries = grown(this.entries);
    while (this.charCount + patientId.length > this.chars.length) this.chars = grown(this.chars);
    for (let index = 0; index < patientId.length; index++) {
      const code = patientId.charCodeAt(index);
      if (code > 0xff && this.chars instanceof Uint8Array) this.chars = Uint16Array.from(this.chars);
      this.chars[this.charCount + index] = code;
    }
    this.charCount += patientId.length;
    const at = this.size * ENTRY_FIELDS;
    this.entries[at] = hospital;
    this.entries[at + 1] = row;
    this.entries[at + 2] = this.charCount;
    this.size++;
  }
}

const NUL = '\u0000';
const ENTRY_FIELDS = 3;
const INITIAL_SLOTS = 1 << 10;
const FNV_OFFSET = 0x811c9dc5;

/**
 * Four times larger, so the copies add up to a third of the final size. The spare room costs little: the system
 * only provides memory once it is written.
 */
function grown<T extends Uint8Array | Uint16Array | Uint32Array>(array: T): T {
  const larger = new (array.constructor as new (length: number) => T)(array.length * 4);
  larger.set(array);
  return larger;
}

/** An entry hashes as FNV-1a over its hospital's number, then its id's UTF-16 code units, then finishHash. */
function fnvStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

// Slots come from the low bits, which FNV leaves weakly mixed.
function finishHash(hash: number): number {
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** Trailing delimiters with nothing after them are common in spreadsheet exports and carry no data. */
function fitsHeader(fields: readonly string[], width: number): boolean {
  if (fields.length < width) return false;
  for (let index = width; index < fields.length; index++) if (fields[index] !== '') return false;
  return true;
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
    for (let feature = 0; feature < this.values.length; feature++) {
      const column = this.values[feature];
      if (column) column[at] = row.values[feature] ?? Number.NaN;
    }
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
