import type { Readable } from 'node:stream';

/** One piece of the body. Buffers are written as they are (not copied), so do not reuse one after yielding it. */
export type Chunk = string | Uint8Array;

/**
 * The part of a WHATWG `ReadableStream` that is used, typed structurally so the DOM's, Node's and
 * undici's (`fetch().body`) declarations all fit.
 */
export interface WebReadableStream<T = unknown> {
  getReader(): {
    read(): Promise<{ done: boolean; value?: T }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/** Anything `stream()` can send, except a function (see {@link Source}). */
export type BodySource =
  | Iterable<Chunk>
  | AsyncIterable<Chunk>
  | Readable
  | WebReadableStream<Chunk>
  | Chunk;

/**
 * What `stream()` sends: a body source, or a function that receives an `AbortSignal` (aborted when
 * the client goes away) and returns a body source or a promise of one, so a producer can stop its own I/O.
 */
export type Source = BodySource | ((signal: AbortSignal) => BodySource | PromiseLike<BodySource>);

/** Options of `stream()`, `res.stream()` and `streamRoute()`. */
export interface StreamOptions {
  /**
   * `Content-Type` of the response. Used as given (add `; charset=utf-8` yourself for text).
   * @defaultValue the `Content-Type` already set on `res`, else `application/octet-stream`
   */
  contentType?: string;
  /**
   * HTTP status code sent with the first byte.
   * @defaultValue `res.statusCode` (200 unless set before)
   */
  status?: number;
  /**
   * Extra response headers, set with the first byte (never on an error response).
   * @defaultValue `undefined` (none)
   */
  headers?: Record<string, string | number | readonly string[]>;
  /**
   * Sends `Content-Disposition: attachment` with this file name (non-ASCII names are encoded per RFC 6266/8187).
   * @defaultValue `undefined` (no `Content-Disposition`)
   */
  filename?: string;
  /**
   * Small chunks are gathered into writes of about this many bytes; a write also happens whenever
   * the source pauses, so nothing it produced waits for more. `0` writes every chunk on its own.
   * @defaultValue `65536`
   */
  bufferBytes?: number;
  /**
   * Called with an error the source raised (or a chunk of the wrong type) after the first byte was
   * sent. The socket is already destroyed, so the client sees a cut response. When given, the error
   * goes here instead of to the returned promise (or `next(err)`).
   * @defaultValue `undefined` (the promise rejects / `next(err)` is called)
   */
  onError?: (error: unknown) => void;
}
