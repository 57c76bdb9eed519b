import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { StreamTypeError } from './errors.js';
import { checkOptions } from './head.js';
import { stream } from './stream.js';
import type { BodySource, Source, StreamOptions } from './types.js';

declare global {
  namespace Express {
    interface Response {
      /**
       * Set by the `streaming()` middleware: `stream(res, source, options)` whose errors go to
       * `next(err)` (or `options.onError` after the first byte). Present only on routes behind it.
       */
      stream?: (source: Source, options?: StreamOptions) => Promise<void>;
    }
  }
}

/**
 * Streams and routes failures the Express way: an error before the first byte goes to `next(err)`
 * (a proper error status); after it, to `options.onError` when given, else also to `next(err)`,
 * whose default handler only closes the (already cut) connection. Never rejects.
 */
function streamTo(res: Response, next: NextFunction, source: Source, options?: StreamOptions): Promise<void> {
  return stream(res, source, options).catch((error: unknown) => next(error));
}

/** Middleware adding `res.stream(source, options?)` (see `stream()`); errors go to `next(err)`. */
export function streaming(): RequestHandler {
  return function streaming(req, res, next) {
    // `req.next` is the `next` of the router running the route that calls res.stream() (so a
    // sub-router's error handlers apply); this middleware's own `next` is the fallback.
    res.stream = (source, options) => streamTo(res, req.next ?? next, source, options);
    next();
  };
}

/**
 * A route handler from `fn(req, signal)`, which returns what `stream()` accepts (typically an
 * async generator). `signal` aborts when the client goes away. Errors go to `next(err)` as in `streaming()`.
 */
export function streamRoute(
  fn: (req: Request, signal: AbortSignal) => BodySource | PromiseLike<BodySource>,
  options: StreamOptions = {},
): RequestHandler {
  if (typeof fn !== 'function')
    throw new StreamTypeError('ERR_INVALID_OPTION', 'streamRoute(fn): fn must be a function, e.g. streamRoute(async function* (req, signal) { yield "hi" })');
  checkOptions(options);
  return function streamRoute(req, res, next) {
    void streamTo(res, next, (signal) => fn(req, signal), options);
  };
}
