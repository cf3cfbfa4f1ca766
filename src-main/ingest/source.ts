import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError, parse, Parser, type Info, type Options } from 'csv-parse';
import { abortError, MalformedCsvError, planError } from './errors.ts';
import type { Delimiter } from './types.ts';

// Real exports carry a BOM, padded cells, blank lines and stray quotes inside unquoted text; none of that should
// stop a read. Rows whose field count differs are let through so the reader can report them by row number.
/**
 * A record (a row, or everything after an unclosed quote) longer than this stops the read: a row of vitals is a
 * few hundred characters, and without a bound one stray quote makes the parser buffer the rest of the file.
 */
export const MAX_RECORD_CHARS = 1 << 20;

const PARSE_OPTIONS: Options = {
  bom: true,
  max_record_size: MAX_RECORD_CHARS,
  trim: true,
  skip_empty_lines: true,
  relax_column_count: true,
  relax_quotes: true,
};

const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];
const SNIFF_BYTES = 64 * 1024;

/** Receives one record and the 1-based physical line on which it starts. */
export type RecordHandler = (line: number, fields: string[]) => void;

export interface RowStreamOptions {
  file: string;
  signal?: AbortSignal | undefined;
  /** Fed every raw byte as it is read, so the digest covers exactly what was parsed. */
  hash?: Hash | undefined;
}

/**
 * Picks the delimiter that splits the header line into the most fields (ties: comma, semicolon, tab). The header is
 * parsed by csv-parse with each candidate, so quoted header names containing another candidate do not mislead it.
 */
export async function sniffDelimiter(path: string, file: string): Promise<Delimiter> {
  const head = await readHead(path);
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw planError(file, null, 'the file is UTF-16 encoded; export it as UTF-8 CSV');
  }
  const text = new TextDecoder('utf-8').decode(head);
  let best: Delimiter = ',';
  let bestCount = 0;
  for (const delimiter of DELIMITERS) {
    const count = await headerFieldCount(text, delimiter);
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function headerFieldCount(text: string, delimiter: Delimiter): Promise<number> {
  return new Promise((resolve) => {
    parse(text, { ...PARSE_OPTIONS, delimiter, to: 1 }, (error, records) => {
      resolve(error ? 0 : (records[0]?.length ?? 0));
    });
  });
}

/**
 * Parses the file a chunk at a time, handing each record to `onRecord` the moment csv-parse produces it, and yields
 * after each chunk so the caller can pass on what it gathered before more is read. Records are not queued for an
 * async step each: that step cost more than parsing, and queued records outlive the garbage collector's young
 * generation, which then copies them. Memory stays bounded by one chunk; rows before a broken line are all handed
 * over before the error is thrown.
 */
export async function* parseRecords(
  path: string,
  delimiter: Delimiter,
  options: RowStreamOptions,
  onRecord: RecordHandler,
): AsyncGenerator<void, void, undefined> {
  const { file, signal, hash } = options;
  if (signal?.aborted) throw abortError(file);
  const lines = new LineCounter();
  // Records go to the handler and are never pushed to the parser's readable side, which would add stream
  // bookkeeping per record.
  const parser = new Parser({
    ...PARSE_OPTIONS,
    delimiter,
    on_record: (fields: string[], context) => {
      onRecord(lines.locate(fields, context), fields);
      return null;
    },
  });
  // Failures arrive through the write and end callbacks; this only keeps the 'error' event from being "unhandled".
  parser.on('error', () => undefined);
  try {
    for await (const chunk of createReadStream(path, signal ? { signal } : {}) as AsyncIterable<Buffer>) {
      hash?.update(chunk);
      await settled((done) => parser.write(chunk, done));
      yield;
    }
    await settled((done) => parser.end(done));
  } catch (error) {
    if (signal?.aborted) throw abortError(file);
    if (!(error instanceof CsvError)) throw error;
    throw malformed(error, lines.next);
  } finally {
    parser.destroy();
  }
}

/** Adapts a stream callback to a promise, so write and end failures surface as exceptions. */
function settled(start: (done: (error?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((error) => (error ? reject(error) : resolve())));
}

/**
 * csv-parse's info.lines double-counts CRLF inside quoted fields, so lines are derived from what was consumed: the
 * previous record's end, the blank lines csv-parse skipped since, and the line breaks inside quoted fields.
 */
class LineCounter {
  /** The line after the last record seen. */
  next = 1;
  private blankLinesSeen = 0;
  private linesSeen = 0;

  /** Returns the record's first line, given csv-parse's running counts when it produced the record. */
  locate(fields: readonly string[], { empty_lines: blankLines, lines }: Info): number {
    const line = this.next + blankLines - this.blankLinesSeen;
    // info.lines grows by one for every line-break character read, so if it grew only by the previous record's end
    // and the blank lines, no field holds a line break and searching the fields can be skipped.
    const inside = lines - this.linesSeen === 1 + blankLines - this.blankLinesSeen ? 0 : lineBreaksIn(fields);
    this.blankLinesSeen = blankLines;
    this.linesSeen = lines;
    this.next = line + 1 + inside;
    return line;
  }
}

function lineBreaksIn(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) count += field.match(/\r\n|\r|\n/g)?.length ?? 0;
  return count;
}

// csv-parse's own messages quote cell text, which must not reach logs, so only the code is translated.
function malformed(error: CsvError, fallbackLine: number): MalformedCsvError {
  const line = typeof error['lines'] === 'number' ? error['lines'] : fallbackLine;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new MalformedCsvError(line, 'a quoted field is never closed; reading stopped at the end of the file');
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return new MalformedCsvError(line, 'text follows a closing quote; reading stopped here');
    case 'CSV_MAX_RECORD_SIZE':
      return new MalformedCsvError(line, `a record longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters (an unclosed quote?); reading stopped here`);
    default:
      return new MalformedCsvError(line, `malformed CSV (${error.code}); reading stopped here`);
  }
}
