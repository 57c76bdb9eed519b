import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import { create as contentDisposition } from 'content-disposition';
import { StreamTypeError } from './errors.js';
import type { StreamOptions } from './types.js';

/** Checks options once; misuse is a {@link StreamTypeError} with code `ERR_INVALID_OPTION`. */
export function checkOptions(options: StreamOptions): void {
  const bad = (what: string) => new StreamTypeError('ERR_INVALID_OPTION', `stream(): ${what}`);
  const { status, bufferBytes, filename, contentType, onError } = options;
  if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 999))
    throw bad(`options.status must be an integer from 100 to 999, got ${String(status)}`);
  if (bufferBytes !== undefined && !(Number.isSafeInteger(bufferBytes) && bufferBytes >= 0))
    throw bad(`options.bufferBytes must be a non-negative integer, got ${String(bufferBytes)}`);
  if (filename !== undefined && typeof filename !== 'string') throw bad('options.filename must be a string');
  if (contentType !== undefined && typeof contentType !== 'string') throw bad('options.contentType must be a string');
  if (onError !== undefined && typeof onError !== 'function') throw bad('options.onError must be a function');
  if (options.headers !== undefined && (typeof options.headers !== 'object' || options.headers === null))
    throw bad('options.headers must be an object of header names to values');
  // Header names and values are checked now, so a bad one fails before anything was set or sent.
  try {
    if (contentType !== undefined) validateHeaderValue('Content-Type', contentType);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      validateHeaderName(name);
      for (const one of Array.isArray(value) ? value : [value]) validateHeaderValue(name, one);
    }
  } catch (error) {
    throw bad(`options.headers: ${(error as Error).message}`);
  }
}

/** Applies the options' status and headers; returns how to take them back if nothing gets sent. */
export function writeHead(res: ServerResponse, options: StreamOptions): () => void {
  if (res.headersSent) return () => undefined;
  const before = { status: res.statusCode, headers: res.getHeaders() };
  if (options.status !== undefined) res.statusCode = options.status;
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  if (options.contentType !== undefined) res.setHeader('Content-Type', options.contentType);
  else if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/octet-stream');
  if (options.filename !== undefined) res.setHeader('Content-Disposition', contentDisposition(options.filename));
  return () => {
    if (res.headersSent) return;
    res.statusCode = before.status;
    for (const name of res.getHeaderNames()) {
      const value = before.headers[name];
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
  };
}
