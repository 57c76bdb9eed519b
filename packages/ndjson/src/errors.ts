/** Stable codes of {@link NDJSONParseError}. */
export type NDJSONParseErrorCode =
  /** The line is not valid JSON. */
  | 'NDJSON_MALFORMED_LINE'
  /** The line is not valid UTF-8 (NDJSON is always UTF-8). */
  | 'NDJSON_INVALID_UTF8'
  /** The `validate` hook rejected the value; the hook's error is the `cause`. */
  | 'NDJSON_INVALID_VALUE';

const EXCERPT_CHARS = 60;

/** Shortens a line for error messages, so a 16 MiB line never ends up in a log. */
function excerptOf(line: string): string {
  return line.length <= EXCERPT_CHARS ? line : `${line.slice(0, EXCERPT_CHARS)}…`;
}

/** A line that could not be turned into a value. Thrown under `onMalformed: 'error'`. */
export class NDJSONParseError extends Error {
  override readonly name = 'NDJSONParseError';
  readonly code: NDJSONParseErrorCode;
  /** 1-based line number in the input, counting blank lines. */
  readonly lineNumber: number;
  /** The first 60 characters of the line. */
  readonly excerpt: string;
  /** HTTP status `ndjsonBody()` answers with. */
  readonly status = 400;

  constructor(code: NDJSONParseErrorCode, lineNumber: number, line: string, cause?: unknown) {
    const excerpt = excerptOf(line);
    const what =
      code === 'NDJSON_INVALID_UTF8'
        ? 'is not valid UTF-8'
        : code === 'NDJSON_INVALID_VALUE'
          ? 'was rejected by validate()'
          : 'is not valid JSON';
    super(`NDJSON line ${lineNumber} ${what}: ${JSON.stringify(excerpt)}`, { cause });
    this.code = code;
    this.lineNumber = lineNumber;
    this.excerpt = excerpt;
  }
}

/** A line longer than `maxLineBytes`; raised before the line is accumulated. */
export class NDJSONLineTooLongError extends Error {
  override readonly name = 'NDJSONLineTooLongError';
  readonly code = 'NDJSON_LINE_TOO_LONG' as const;
  /** 1-based line number of the offending line. */
  readonly lineNumber: number;
  /** The limit that was exceeded, in bytes. */
  readonly maxLineBytes: number;
  /** HTTP status `ndjsonBody()` answers with. */
  readonly status = 413;

  constructor(lineNumber: number, maxLineBytes: number) {
    super(`NDJSON line ${lineNumber} is longer than maxLineBytes (${maxLineBytes} bytes)`);
    this.lineNumber = lineNumber;
    this.maxLineBytes = maxLineBytes;
  }
}

/** The upload ended abnormally: the client aborted it or the connection broke. */
export class NDJSONAbortedError extends Error {
  override readonly name = 'NDJSONAbortedError';
  readonly code = 'NDJSON_ABORTED' as const;
  /** Body bytes received before the upload was cut. */
  readonly bytesReceived: number;
  /** HTTP status `ndjsonBody()` answers with, should the client still be listening. */
  readonly status = 400;

  constructor(bytesReceived: number, cause?: unknown) {
    super(`NDJSON upload aborted by the client after ${bytesReceived} bytes`, { cause });
    this.bytesReceived = bytesReceived;
  }
}

/** A request whose Content-Type is not an NDJSON media type (or not UTF-8). */
export class NDJSONContentTypeError extends Error {
  override readonly name = 'NDJSONContentTypeError';
  readonly code = 'NDJSON_UNSUPPORTED_MEDIA_TYPE' as const;
  /** The Content-Type the request carried, if any. */
  readonly contentType: string | undefined;
  /** HTTP status `ndjsonBody()` answers with. */
  readonly status = 415;

  constructor(contentType: string | undefined, accepted: readonly string[]) {
    super(`Unsupported Content-Type ${JSON.stringify(contentType ?? '')}; expected ${accepted.join(' or ')}`);
    this.contentType = contentType;
  }
}

/** A value the response side could not turn into a JSON line (circular, BigInt, undefined…). */
export class NDJSONSerializeError extends Error {
  override readonly name = 'NDJSONSerializeError';
  readonly code = 'NDJSON_UNSERIALIZABLE' as const;
  /** 0-based position of the value in the source. */
  readonly index: number;

  constructor(index: number, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : 'JSON.stringify returned undefined';
    super(`NDJSON value #${index} cannot be serialized: ${reason}`, { cause });
    this.index = index;
  }
}
