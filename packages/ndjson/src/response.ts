import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import type { RequestHandler } from 'express';
import { stream, type StreamOptions } from '@sluice/stream-generator';
import { checkValues, serializer, toLines, type NDJSONValues } from './lines-out.js';

/** What `ndjson()` sends: values, or a function of an AbortSignal (aborted when the client goes away) returning them. */
export type NDJSONResponseSource<T = unknown> =
  | NDJSONValues<T>
  | ((signal: AbortSignal) => NDJSONValues<T> | PromiseLike<NDJSONValues<T>>);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /**
       * Set by `ndjsonResponse()`: `ndjson(res, source, options)` whose errors go to `next(err)`.
       * Present only on routes behind that middleware.
       */
      ndjson?: <T = unknown>(source: NDJSONResponseSource<T>, options?: NDJSONOptions) => Promise<void>;
    }
  }
}

/** Options of {@link ndjson} and {@link ndjsonResponse}; the others are those of `stream()`. */
export interface NDJSONOptions extends Omit<StreamOptions, 'contentType' | 'onError'> {
  /**
   * `Content-Type` of the response.
   * @defaultValue `'application/x-ndjson'`
   */
  contentType?: string;
  /**
   * Passed to `JSON.stringify`, e.g. `(k, v) => typeof v === 'bigint' ? v.toString() : v`.
   * @defaultValue `undefined` (BigInt and circular values are errors)
   */
  replacer?: (this: unknown, key: string, value: unknown) => unknown;
  /**
   * When the values fail after the first line (the source throws, or a value cannot be
   * serialized), write one last line and end the response normally instead of cutting it:
   * `true` writes `{"error":{"message":"Internal Server Error"}}` (the error's own message only
   * when it has `expose: true`), a function returns the record to write. A failure before the
   * first line is still an HTTP error. The error itself still goes to `onError` or the promise.
   * @defaultValue `false` (the socket is destroyed, so the client sees a cut response)
   */
  errorLine?: boolean | ((error: unknown) => unknown);
  /**
   * Receives errors after the first line (the response is already cut, or ended with the error
   * line) instead of the returned promise / `next(err)`.
   * @defaultValue `undefined` (the promise rejects / `next(err)` is called)
   */
  onError?: (error: unknown) => void;
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof (x as PromiseLike<unknown> | null)?.then === 'function';

function errorRecord(error: unknown): unknown {
  const exposed = (error as { expose?: unknown } | null)?.expose === true && error instanceof Error;
  return { error: { message: exposed ? error.message : 'Internal Server Error' } };
}

/**
 * Streams values as NDJSON (`application/x-ndjson`): one `JSON.stringify` per line, always `\n`.
 * Writing is `stream()` from `@sluice/stream-generator`: backpressure, coalescing, the source is
 * stopped when the client goes away, an error before the first byte rejects (`res` untouched),
 * after it the socket is destroyed (or, with `errorLine`, an error record ends the stream).
 *
 * @see https://github.com/ndjson/ndjson-spec
 */
export async function ndjson<T = unknown>(
  res: ServerResponse,
  source: NDJSONResponseSource<T>,
  options: NDJSONOptions = {},
): Promise<void> {
  const { replacer, errorLine = false, onError, contentType = 'application/x-ndjson', ...rest } = options;
  if (replacer !== undefined && typeof replacer !== 'function') throw new TypeError('ndjson(): options.replacer must be a function');
  if (typeof source !== 'function') checkValues(source);
  const serialize = serializer(replacer);
  let inBand: { error: unknown } | undefined;
  const onFailure = (error: unknown, linesSent: number): string | undefined => {
    if (errorLine === false || linesSent === 0) return undefined;
    inBand = { error };
    const record = errorLine === true ? errorRecord(error) : errorLine(error);
    return serialize(record, linesSent);
  };
  const lines = (values: NDJSONValues<T>) => toLines(values, serialize, onFailure);

  await stream(
    res,
    (signal: AbortSignal) => {
      const values = typeof source === 'function' ? source(signal) : source;
      return isThenable(values) ? Promise.resolve(values).then(lines) : lines(values);
    },
    { ...rest, contentType, ...(onError && { onError }) },
  );
  if (!inBand) return;
  if (!onError) throw inBand.error;
  onError(inBand.error);
}

/** Middleware adding `res.ndjson(source, options?)` (see {@link ndjson}, `defaults` apply first). Errors go to `next(err)`. */
export function ndjsonResponse(defaults: NDJSONOptions = {}): RequestHandler {
  if (defaults.replacer !== undefined && typeof defaults.replacer !== 'function') {
    throw new TypeError('ndjsonResponse(): options.replacer must be a function');
  }
  return function ndjsonResponse(req, res, next) {
    res.ndjson = (source, options) =>
      ndjson(res, source, { ...defaults, ...options }).catch((error: unknown) => {
        const forward = () => (req.next ?? next)(error);
        // After headers, Express's default handler destroys the socket: let the response (a
        // cut one, or one ended by an error line) finish first.
        if (!res.headersSent) return forward();
        const cleanup = finished(res, () => {
          cleanup(); // finished() leaves its listeners in place otherwise
          forward();
        });
      });
    next();
  };
}
