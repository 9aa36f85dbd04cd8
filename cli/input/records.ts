/**
 * Streams the records of a CSV or JSONL file, one line at a time, each with its 1-based line
 * number. Nothing holds more than the current line, so a file of a million lines reads in
 * constant memory; the caller's pace is the back-pressure (readline pauses the file stream).
 *
 * CSV is decoded line by line (csv-parse on each line) rather than as one stream: a malformed
 * quote then costs exactly its own line instead of swallowing the rest of the file, and every
 * error names the right line. Fields cannot span lines here anyway: tokens and accounts may not
 * contain control characters.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseCsvLine } from 'csv-parse/sync';
import { UsageError } from '../exit.js';

export type InputFormat = 'csv' | 'jsonl';
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'jsonl'];

export type InputRecord =
  | { line: number; ok: true; fields: Record<string, unknown> }
  /** The line is not CSV/JSON at all; `raw` is its text. */
  | { line: number; ok: false; reason: string; raw: string };

/** The columns (CSV header) / keys (JSONL) a command reads. */
export interface RecordShape {
  required: readonly string[];
  optional: readonly string[];
  /** CSV cells are text: these columns are read as integers when they look like one. */
  integers: readonly string[];
}

export interface RecordSource {
  records: AsyncIterable<InputRecord>;
  totalBytes: number;
  /** Bytes read from the file so far (ahead of the records handed out by at most one buffer). */
  bytesRead(): number;
}

export function formatOf(file: string, requested?: InputFormat): InputFormat {
  if (requested) return requested;
  const extension = extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  throw new UsageError(`Cannot tell the format of "${file}" from its extension: name it .csv or .jsonl, or pass --format csv|jsonl`);
}

export async function openRecords(file: string, format: InputFormat, shape: RecordShape): Promise<RecordSource> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`Cannot read "${file}": no such file`);
  const stream = createReadStream(file, { encoding: 'utf8' });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  // Take the async iterator now: readline only buffers the lines it emits once an iterator
  // exists, and the file starts flowing at once, so a caller that awaits anything before its
  // first read would otherwise lose the first lines of a small file.
  const iterator = reader[Symbol.asyncIterator]();
  const lines: AsyncIterable<string> = { [Symbol.asyncIterator]: () => iterator };
  return {
    records: format === 'csv' ? csvRecords(lines, shape) : jsonlRecords(lines),
    totalBytes: info.size,
    bytesRead: () => stream.bytesRead,
  };
}

async function* numbered(lines: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let line = 0;
  for await (const text of lines) {
    line += 1;
    const content = line === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (content.trim() !== '') yield { line, text: content };
  }
}

async function* jsonlRecords(lines: AsyncIterable<string>): AsyncGenerator<InputRecord> {
  for await (const { line, text } of numbered(lines)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, ok: false, reason: `not valid JSON (${(error as Error).message})`, raw: text };
      continue;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) yield { line, ok: true, fields: value as Record<string, unknown> };
    else yield { line, ok: false, reason: 'not a JSON object', raw: text };
  }
}

async function* csvRecords(lines: AsyncIterable<string>, shape: RecordShape): AsyncGenerator<InputRecord> {
  let columns: string[] | undefined;
  for await (const { line, text } of numbered(lines)) {
    let cells: string[];
    try {
      [cells = []] = parseCsvLine(text, { trim: true, relax_column_count: true }) as string[][];
    } catch (error) {
      yield { line, ok: false, reason: `not valid CSV (${(error as Error).message.replace(/ at line \d+/, '')})`, raw: text };
      continue;
    }
    if (!columns) {
      columns = checkHeader(cells, shape, line);
      continue;
    }
    if (cells.length > columns.length) {
      yield { line, ok: false, reason: `has ${cells.length} columns, the header has ${columns.length}`, raw: text };
      continue;
    }
    const fields: Record<string, unknown> = {};
    columns.forEach((column, index) => {
      const cell = cells[index];
      if (cell === undefined || cell === '') return; // an absent optional column, or a missing value
      fields[column] = shape.integers.includes(column) && /^-?\d+$/.test(cell) ? Number(cell) : cell;
    });
    yield { line, ok: true, fields };
  }
  // No header at all (an empty or truncated export): a usage error, or `verify` would report "no drift" for nothing.
  if (!columns) throw new UsageError(`CSV header on line 1 must be ${headerSpec(shape)}: the file has no lines`);
}

const headerSpec = (shape: RecordShape): string => `${shape.required.join(',')}${shape.optional.map((column) => `[,${column}]`).join('')}`;

/** The first line of a CSV must name the columns; a wrong header is a usage error, not 1 000 000 bad lines. */
function checkHeader(cells: string[], shape: RecordShape, line: number): string[] {
  const known = [...shape.required, ...shape.optional];
  const unknown = cells.filter((cell) => !known.includes(cell));
  const missing = shape.required.filter((column) => !cells.includes(column));
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
      ...(unknown.length > 0 ? [`unknown ${unknown.join(', ')}`] : []),
    ];
    throw new UsageError(
      `CSV header on line ${line} must be ${headerSpec(shape)}: ${problems.join('; ')}`,
    );
  }
  return cells;
}
