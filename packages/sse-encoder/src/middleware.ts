import type { RequestHandler } from 'express';
import { createSSEStream, type SSEStream, type SSEStreamOptions } from './stream.js';

/** Options for the {@link sse} middleware; the same as for `createSSEStream`. */
export type SSEOptions = SSEStreamOptions;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /**
       * The Server-Sent Events stream of this response. Present only on routes that mounted
       * `sse()` (or `keepalive()` / `resume()`, which open it too).
       */
      sse?: SSEStream;
    }
  }
}

/**
 * Middleware that opens a Server-Sent Events response and attaches it as `res.sse`: sets
 * `Content-Type: text/event-stream; charset=utf-8`, `Cache-Control: no-cache` and
 * `X-Accel-Buffering: no`, and flushes the headers at once.
 */
export function sse(options: SSEOptions = {}): RequestHandler {
  if (options.retryMs !== undefined && (!Number.isSafeInteger(options.retryMs) || options.retryMs < 0)) {
    throw new TypeError(`sse({ retryMs }) must be a non-negative integer, got ${String(options.retryMs)}`);
  }
  return function sse(req, res, next) {
    res.sse = createSSEStream(req, res, options);
    next();
  };
}
