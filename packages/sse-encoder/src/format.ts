import { SSEFormatError } from './errors.js';
import type { EncodedEvent, SSEEvent } from './types.js';

// The spec splits lines on CRLF, lone LF and lone CR; so must we, or a CR forges a new line.
const LINE_BREAK = /\r\n|\r|\n/;
const BREAK_CHAR = /[\r\n]/;

// Symbol.for so that two copies of this package (CJS and ESM, or two versions) agree.
const ENCODED = Symbol.for('sluice.sse.encoded');

function dataLines(text: string): string {
  if (!BREAK_CHAR.test(text)) return `data: ${text}\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out;
}

function commentLines(text: string): string {
  if (!BREAK_CHAR.test(text)) return `: ${text}\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `: ${line}\n`;
  return out;
}

function encodeData(data: unknown): string {
  if (typeof data === 'string') return data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new SSEFormatError('INVALID_DATA', `data cannot be JSON-encoded: ${(cause as Error).message}`, { cause });
  }
  if (json === undefined) throw new SSEFormatError('INVALID_DATA', `data of type ${typeof data} has no JSON form`);
  return json;
}

function checkRetry(retry: unknown): number {
  if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
    throw new SSEFormatError('INVALID_RETRY', `retry must be a non-negative integer, got ${String(retry)}`);
  }
  return retry;
}

/** Formats a `data:`-only frame; the fast path for `send('text')`. */
export function formatData(data: string): string {
  return `${dataLines(data)}\n`;
}

/** Formats a comment frame. */
export function formatComment(text: string): string {
  return `${commentLines(text)}\n`;
}

/** Formats a `retry:`-only frame. */
export function formatRetry(ms: number): string {
  return `retry: ${checkRetry(ms)}\n\n`;
}

/**
 * Encodes one event as a complete frame (ending in a blank line), following the WHATWG
 * event-stream rules. Throws {@link SSEFormatError} rather than emit a field a client would read
 * differently from what was meant.
 */
export function formatEvent(event: SSEEvent): string {
  if (event === null || typeof event !== 'object') {
    throw new TypeError(`formatEvent expects an event object, got ${event === null ? 'null' : typeof event}`);
  }
  let frame = '';
  for (const key in event) {
    if (key !== 'data' && key !== 'event' && key !== 'id' && key !== 'retry' && key !== 'comment') {
      throw new SSEFormatError(
        'UNKNOWN_FIELD',
        `unknown SSE field "${key}"; to send an object as JSON, pass { data: value }`,
      );
    }
  }
  const { data, event: type, id, retry, comment } = event;
  if (comment !== undefined) frame += commentLines(String(comment));
  if (type !== undefined) {
    if (typeof type !== 'string' || BREAK_CHAR.test(type)) {
      throw new SSEFormatError('INVALID_EVENT', 'event must be a string without CR or LF');
    }
    frame += `event: ${type}\n`;
  }
  if (id !== undefined) {
    const text = String(id);
    // A NUL makes the client ignore the whole id field, so it would silently keep the old one.
    if ((typeof id !== 'string' && typeof id !== 'number') || BREAK_CHAR.test(text) || text.includes('\0')) {
      throw new SSEFormatError('INVALID_ID', 'id must be a string or number without CR, LF or NUL');
    }
    frame += `id: ${text}\n`;
  }
  if (retry !== undefined) frame += `retry: ${checkRetry(retry)}\n`;
  if (data !== undefined) frame += dataLines(encodeData(data));
  return `${frame}\n`;
}

/** Encodes an event once for sending to many streams with `stream.send(encoded)`. */
export function encodeEvent(event: SSEEvent | string): EncodedEvent {
  const frame = typeof event === 'string' ? formatData(event) : formatEvent(event);
  return Object.freeze({ frame, [ENCODED]: true });
}

export function isEncodedEvent(value: unknown): value is EncodedEvent {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ENCODED] === true;
}
