import { byteChunks, checkSource, type NDJSONSource } from './chunks.js';
import type { NDJSONParseError } from './errors.js';
import { NDJSONBatchIterator, NDJSONIterator } from './iterator.js';

/** What to do with a line that is not valid JSON, not UTF-8, or rejected by `validate`. */
export type OnMalformed =
  | 'error'
  | 'skip'
  | ((line: string, lineNumber: number, error: NDJSONParseError) => void | Promise<void>);

/** Options of {@link parseNDJSON}. */
export interface ParseNDJSONOptions<T = unknown> {
  /**
   * Longest accepted line in bytes, not counting its `\n` or `\r\n`. Checked as bytes arrive, so
   * at most this much of one line is ever held; a longer line throws {@link NDJSONLineTooLongError}.
   * `Infinity` disables the limit.
   * @defaultValue `1048576` (1 MiB)
   */
  maxLineBytes?: number;
  /**
   * `'error'` throws {@link NDJSONParseError} (with `lineNumber` and `excerpt`) once the values
   * before the line have been yielded; `'skip'` drops the line; a callback is told about the line
   * and parsing goes on (throw or reject from it to stop instead).
   * @defaultValue `'error'`
   */
  onMalformed?: OnMalformed;
  /**
   * Called with each parsed value; returns the value to yield (or a promise of it), or throws to
   * reject it. A rejection is handled like a malformed line, with code `NDJSON_INVALID_VALUE` and
   * the hook's error as `cause`. Plug a schema library in here: `validate: (v) => schema.parse(v)`.
   * @defaultValue `undefined` (values are yielded as parsed)
   */
  validate?: (value: unknown, lineNumber: number) => T | Promise<T>;
  /**
   * Aborting stops reading: the iteration throws `signal.reason` and the source is released.
   * @defaultValue `undefined`
   */
  signal?: AbortSignal;
}

/** Default `maxLineBytes`: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Validates options once (misuse is a TypeError at the call, not at the first line) and applies defaults. */
export function checkParseOptions(options: ParseNDJSONOptions<unknown>): { maxLineBytes: number; onMalformed: OnMalformed } {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const onMalformed = options.onMalformed ?? 'error';
  if (!(typeof maxLineBytes === 'number' && maxLineBytes > 0)) {
    throw new TypeError(`maxLineBytes must be a positive number of bytes (or Infinity), got ${String(maxLineBytes)}`);
  }
  if (onMalformed !== 'error' && onMalformed !== 'skip' && typeof onMalformed !== 'function') {
    throw new TypeError(`onMalformed must be 'error', 'skip' or a function (line, lineNumber, error) => void, got ${String(onMalformed)}`);
  }
  if (options.validate !== undefined && typeof options.validate !== 'function') {
    throw new TypeError('validate must be a function (value, lineNumber) => value, e.g. (v) => schema.parse(v)');
  }
  return { maxLineBytes, onMalformed };
}

/**
 * Parses NDJSON from any chunked source into an async iterable of values, in time linear in the
 * input: only newly arrived bytes are searched for `\n`, and each line is decoded once.
 *
 * Lines are UTF-8 (characters split across chunks are fine); `\r\n` is accepted, a leading BOM is
 * dropped, blank and whitespace-only lines are skipped, and a last line without `\n` is still
 * parsed. A line that is not valid UTF-8 is malformed: it goes to `onMalformed`, never silently
 * decoded with U+FFFD.
 *
 * Values are decoded one chunk ahead of the consumer at most (the next chunk is read only when the
 * previous one's values have been taken), so a slow consumer holds back the source. A chunk larger
 * than 64 KiB (a whole file's Buffer, say) is decoded 64 KiB at a time, so what is held stays bounded.
 *
 * @see https://github.com/ndjson/ndjson-spec
 * @throws {NDJSONLineTooLongError} a line exceeds `maxLineBytes`
 * @throws {NDJSONParseError} a malformed line under `onMalformed: 'error'`
 */
export function parseNDJSON<T = unknown>(
  source: NDJSONSource,
  options: ParseNDJSONOptions<T> = {},
): AsyncIterableIterator<T> {
  return iteratorOf(source, options);
}

/**
 * {@link parseNDJSON} handing out the values of each source chunk as one array (never empty)
 * rather than one value per `for await` step; a chunk larger than 64 KiB is taken 64 KiB at a
 * time (cut after a line end where there is one), so a batch holds at most that much input. Same
 * options, same errors, same order; for bulk ingestion, where one async step per value would
 * cost more than splitting and decoding the line (see BENCHMARKS.md). A batch is yours to keep:
 * the iterator never reuses it.
 *
 * @example
 * for await (const rows of parseNDJSONBatches<Row>(req)) await db.insertMany(rows);
 */
export function parseNDJSONBatches<T = unknown>(
  source: NDJSONSource,
  options: ParseNDJSONOptions<T> = {},
): AsyncIterableIterator<T[]> {
  return new NDJSONBatchIterator(iteratorOf(source, options));
}

function iteratorOf<T>(source: NDJSONSource, options: ParseNDJSONOptions<T>): NDJSONIterator<T> {
  const { maxLineBytes, onMalformed } = checkParseOptions(options);
  checkSource(source);
  return new NDJSONIterator<T>(byteChunks(source, options.signal), maxLineBytes, onMalformed, options.validate);
}
