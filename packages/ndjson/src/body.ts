import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import type { RequestHandler } from 'express';
import { NDJSONAbortedError, NDJSONContentTypeError, NDJSONLineTooLongError, NDJSONParseError } from './errors.js';
import { checkParseOptions, parseNDJSON, parseNDJSONBatches, type ParseNDJSONOptions } from './parse.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * Set by `ndjsonBody()`: the request body's values as they arrive (iterate once). Present
       * only on routes behind that middleware.
       */
      ndjson?: <T = unknown>() => AsyncIterableIterator<T>;
      /**
       * Set by `ndjsonBody()`: the same values, as one array per piece of the upload (see
       * `parseNDJSONBatches()`), for bulk ingestion. The body is read once: either this or `ndjson()`.
       */
      ndjsonBatches?: <T = unknown>() => AsyncIterableIterator<T[]>;
    }
  }
}

/** Options of {@link ndjsonBody}: those of `parseNDJSON()` (except `signal`) plus the HTTP ones. */
export interface NDJSONBodyOptions extends Omit<ParseNDJSONOptions<unknown>, 'signal'> {
  /**
   * Accepted media types (parameters ignored, except that a `charset` must be UTF-8). A request
   * with a body and another Content-Type gets 415.
   * @defaultValue `['application/x-ndjson', 'application/ndjson', 'application/jsonl']`
   */
  type?: string | readonly string[];
  /**
   * When the body fails (wrong type 415, line too long 413, malformed line or aborted upload
   * 400) and the handler has not started responding, answer with that status and a JSON body
   * `{ error: { code, message, lineNumber? } }` before the error reaches the handler. `false`
   * leaves the response to you: the 415 goes to `next(err)`, the others are only thrown.
   * @defaultValue `true`
   */
  respond?: boolean;
}

const DEFAULT_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

interface HttpError {
  status: number;
  code: string;
  message: string;
  lineNumber?: number;
}
/** Only our own errors are answered: a user error (from an `onMalformed` callback, say) may say too much. */
const isHttpError = (error: unknown): error is HttpError =>
  error instanceof NDJSONParseError || error instanceof NDJSONLineTooLongError || error instanceof NDJSONAbortedError;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function acceptable(contentType: string | undefined, types: readonly string[]): boolean {
  if (contentType === undefined) return false;
  const [essence = '', ...params] = contentType.split(';');
  if (!types.includes(essence.trim().toLowerCase())) return false;
  const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return charset === undefined || /^charset="?utf-?8"?$/.test(charset);
}

/** Answers `error` as JSON unless the handler already started; settles once the bytes are out. */
function respondWith(req: IncomingMessage, res: ServerResponse, error: HttpError): Promise<void> {
  if (res.headersSent || res.writableEnded || res.destroyed) return Promise.resolve();
  const { status, code, message, lineNumber } = error;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ error: lineNumber === undefined ? { code, message } : { code, message, lineNumber } }));
  // Read on (and drop) what the client already sent, so closing the connection is clean.
  req.resume();
  // Waiting for the response to be out means an Express 5 handler that rethrows (whose default
  // error handler destroys a socket that has sent headers) cannot cut it short.
  return new Promise((resolve) => {
    // finished() leaves its listeners in place unless its cleanup is called.
    const cleanup = finished(res, () => {
      cleanup();
      resolve();
    });
  });
}

/** The upload's bytes; an upload cut before its end becomes an {@link NDJSONAbortedError}. */
async function* uploadChunks(req: IncomingMessage): AsyncGenerator<Buffer, void, undefined> {
  let bytes = 0;
  try {
    // Breaking out of the loop must not destroy `req`: that would take the socket (and the
    // response) with it.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      yield chunk;
    }
  } catch (error) {
    throw new NDJSONAbortedError(bytes, error);
  }
  if (!req.complete) throw new NDJSONAbortedError(bytes);
}

/**
 * Middleware for NDJSON request bodies: `req.ndjson()` yields the values as the upload arrives,
 * reading the next piece only when the previous values were taken (a slow consumer slows the
 * client down instead of filling memory); `req.ndjsonBatches()` yields them an array per piece.
 *
 * A request with a body of another Content-Type gets 415. While iterating, a line over
 * `maxLineBytes` throws {@link NDJSONLineTooLongError} (answered 413), a malformed line under
 * `onMalformed: 'error'` throws {@link NDJSONParseError} (answered 400, naming the line), and an
 * aborted upload throws {@link NDJSONAbortedError}.
 */
export function ndjsonBody(options: NDJSONBodyOptions = {}): RequestHandler {
  checkParseOptions(options);
  const types = [options.type ?? DEFAULT_TYPES].flat().map((t) => t.toLowerCase());
  const respond = options.respond ?? true;
  const parseOptions: ParseNDJSONOptions<unknown> = {
    maxLineBytes: options.maxLineBytes,
    onMalformed: options.onMalformed,
    validate: options.validate,
  };

  return function ndjsonBody(req, res, next) {
    const withBody = hasBody(req);
    if (withBody && !acceptable(req.headers['content-type'], types)) {
      const error = new NDJSONContentTypeError(req.headers['content-type'], types);
      if (!respond) return next(error);
      void respondWith(req, res, error);
      return;
    }
    let taken = false;
    const body = <R>(parse: (source: AsyncIterable<Buffer> | [], options: ParseNDJSONOptions<unknown>) => AsyncIterableIterator<R>) => {
      if (taken) throw new TypeError('req.ndjson() / req.ndjsonBatches() can be iterated only once: the body is read as it arrives');
      taken = true;
      const values = parse(withBody ? uploadChunks(req) : [], parseOptions);
      return respond ? answeringErrors(values, req, res) : values;
    };
    req.ndjson = <T>() => body((source, opts) => parseNDJSON<T>(source, opts as ParseNDJSONOptions<T>));
    req.ndjsonBatches = <T>() => body((source, opts) => parseNDJSONBatches<T>(source, opts as ParseNDJSONOptions<T>));
    next();
  };
}

/** Passes values through; a body error is answered (see `respond`) before it is rethrown. */
function answeringErrors<T>(values: AsyncIterableIterator<T>, req: IncomingMessage, res: ServerResponse): AsyncIterableIterator<T> {
  const onError = async (error: unknown): Promise<never> => {
    if (isHttpError(error)) await respondWith(req, res, error);
    throw error;
  };
  return {
    next: () => values.next().then(undefined, onError),
    return: () => values.return!(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
