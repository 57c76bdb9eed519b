/** Stable codes carried by {@link SSEFormatError}. */
export type SSEFormatErrorCode =
  | 'INVALID_ID'
  | 'INVALID_EVENT'
  | 'INVALID_RETRY'
  | 'INVALID_DATA'
  | 'UNKNOWN_FIELD';

/**
 * Thrown when an event cannot be encoded without a client reading it differently from what was
 * meant: a line break in `id` or `event`, a NUL in `id`, a `retry` that is not a non-negative
 * integer, data that cannot be JSON-encoded, or an unknown field.
 */
export class SSEFormatError extends Error {
  override readonly name = 'SSEFormatError';
  readonly code: SSEFormatErrorCode;

  constructor(code: SSEFormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
