import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type Options } from 'csv-parse';
import { abortError, MalformedCsvError, planError } from './errors.ts';
import type { Delimiter } from './types.ts';

// Real exports carry a BOM, padded cells, blank lines and stray quotes inside unquoted text; none of that should
// stop a read. Rows whose field count differs are let through so the reader can report them by row number.
const PARSE_OPTIONS: Options = {
  bom: true,
  trim: true,
  skip_empty_lines: true,
  relax_column_count: true,
  relax_quotes: true,
};

const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];
const SNIFF_BYTES = 64 * 1024;

export interface CsvRow {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: string[];
}

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

/** Streams records with their starting line numbers; memory stays bounded by csv-parse's buffers. */
export async function* csvRows(path: string, delimiter: Delimiter, options: RowStreamOptions): AsyncGenerator<CsvRow> {
  const { file, signal, hash } = options;
  if (signal?.aborted) throw abortError(file);
  // A csv-parse error destroys the stream, and its iterator then drops records parsed but not yet consumed.
  // Mirroring them here lets the rows before a broken line still be checked; it holds at most the stream buffer.
  const parsed: { fields: string[]; blankLines: number }[] = [];
  const parser = parse({
    ...PARSE_OPTIONS,
    delimiter,
    on_record: (fields, context) => {
      parsed.push({ fields, blankLines: context.empty_lines });
      return fields;
    },
  });
  const source = createReadStream(path);
  const stages: (Readable | Transform)[] = [source];
  if (hash) stages.push(hashingTap(hash));
  const flow = pipeline([...stages, parser], signal ? { signal } : {});
  // Failures reach us through the parser iterator below; this only keeps an early stop from being "unhandled".
  flow.catch(() => undefined);

  // csv-parse's info.lines double-counts CRLF inside quoted fields, so lines are derived from what was consumed:
  // the previous record's end, the blank lines csv-parse skipped since, and the line breaks inside quoted fields.
  let nextLine = 1;
  let blankLinesSeen = 0;
  const locate = (fields: string[], blankLines: number): CsvRow => {
    const line = nextLine + blankLines - blankLinesSeen;
    blankLinesSeen = blankLines;
    nextLine = line + 1 + lineBreaksIn(fields);
    return { line, fields };
  };
  try {
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        yield locate(fields, parsed.shift()?.blankLines ?? blankLinesSeen);
      }
      await flow;
    } catch (error) {
      if (signal?.aborted) throw abortError(file);
      if (!(error instanceof CsvError)) throw error;
      for (const { fields, blankLines } of parsed.splice(0)) yield locate(fields, blankLines);
      throw malformed(error, nextLine);
    }
  } finally {
    parser.destroy();
  }
}

function hashingTap(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
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
      return new MalformedCsvError(line, 'record too long (unbalanced quotes?); reading stopped here');
    default:
      return new MalformedCsvError(line, `malformed CSV (${error.code}); reading stopped here`);
  }
}
