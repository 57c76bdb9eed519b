/** Stable codes carried by {@link ResumeError}. */
export type ResumeErrorCode = 'INVALID_STREAM' | 'STORE_FAILED';

/**
 * An error from `resume()`: `INVALID_STREAM` when the `stream` option's function returned no
 * usable name (passed to `next()`, status 500); `STORE_FAILED` when the store rejected, with the
 * store's error as `cause` (passed to `onError`).
 */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
  readonly code: ResumeErrorCode;
  /** HTTP status for Express error handlers. */
  readonly status: number;

  constructor(code: ResumeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = code === 'STORE_FAILED' ? 503 : 500;
  }
}
