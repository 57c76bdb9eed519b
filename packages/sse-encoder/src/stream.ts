import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatComment, formatData, formatEvent, formatRetry, isEncodedEvent } from './format.js';
import type { EncodedEvent, SSEEvent } from './types.js';

/** Options for {@link createSSEStream} and `sse()`. */
export interface SSEStreamOptions {
  /**
   * A `retry:` hint (ms) written as soon as the stream opens, telling clients how long to wait
   * before reconnecting.
   * @defaultValue `undefined` (no hint; browsers use their own default, about 3 s)
   */
  retryMs?: number;
  /**
   * Extra response headers set before the headers are flushed.
   * @defaultValue `{}`
   */
  headers?: Record<string, string>;
  /**
   * Bytes of events produced in one turn of the event loop that are written at once instead of
   * waiting for the end of the turn. Events sent in the same turn share one socket write; no event
   * waits past the turn it was sent in.
   * @defaultValue `16384`
   */
  flushBytes?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();
const STREAM = Symbol.for('sluice.sse.stream');
type Flushable = ServerResponse & { flush?: () => void; [STREAM]?: SSEStream };

/**
 * A live Server-Sent Events response. Obtain one with {@link createSSEStream} or the `sse()`
 * middleware (`res.sse`). Writes are framed safely and coalesced per event-loop turn; the promises
 * returned by `send()` apply backpressure.
 */
export class SSEStream {
  /** The `Last-Event-ID` the client sent (header, or `lastEventId` query parameter), if any. */
  readonly lastEventId: string | undefined;
  /** `Date.now()` of the last event or comment sent, for idle detection (keep-alive). */
  lastWriteAt = Date.now();

  readonly #res: Flushable;
  readonly #flushBytes: number;
  #pending = '';
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;
  #controller: AbortController | undefined;
  #drain: Promise<void> | undefined;
  #drainDone: (() => void) | undefined;
  readonly #flushNow = () => this.#flush();
  readonly #onDrain = () => this.#releaseDrain();
  readonly #onClose = () => this.#shutdown();

  /** @internal Use {@link createSSEStream}. */
  constructor(req: IncomingMessage, res: ServerResponse, options: SSEStreamOptions = {}) {
    this.#res = res;
    this.#flushBytes = options.flushBytes ?? 16384;
    this.lastEventId = readLastEventId(req);
    // 'close' on the response (not the request, which fires once a POST body is read) is the one
    // signal that covers both a client that left and a response that finished.
    res.once('close', this.#onClose);
  }

  /** Aborted when the client goes away or the stream is closed. */
  get signal(): AbortSignal {
    // Created lazily: an idle connection that never asks for it saves the controller's memory.
    this.#controller ??= new AbortController();
    if (this.#closed && !this.#controller.signal.aborted) this.#controller.abort();
    return this.#controller.signal;
  }

  /** True once the client left or `close()` was called; sends are then ignored. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes accepted but not yet taken by the socket (ours plus the response's buffer). */
  get bufferedBytes(): number {
    return this.#pending.length + (this.#res.writableLength ?? 0);
  }

  /**
   * Sends one event: a string is the data of a `message` event; an object is an {@link SSEEvent};
   * an `EncodedEvent` (from `encodeEvent`) is sent as already framed. Throws `SSEFormatError`
   * synchronously for an event that cannot be framed safely.
   *
   * @returns a promise that settles once the socket can take more (immediately unless its buffer
   * is full, else at `'drain'`), or when the client leaves. It never rejects; after close it
   * resolves without writing.
   */
  send(event: SSEEvent | EncodedEvent | string): Promise<void> {
    if (this.#closed) return RESOLVED;
    const frame =
      typeof event === 'string' ? formatData(event) : isEncodedEvent(event) ? event.frame : formatEvent(event);
    return this.#enqueue(frame);
  }

  /** Sends a comment line, which clients ignore (keep-alive, debugging). */
  comment(text: string): Promise<void> {
    return this.#closed ? RESOLVED : this.#enqueue(formatComment(text));
  }

  /** Tells the client how many milliseconds to wait before reconnecting. */
  retry(ms: number): Promise<void> {
    return this.#closed ? RESOLVED : this.#enqueue(formatRetry(ms));
  }

  /**
   * Writes what this turn's `send()`, `comment()` and `retry()` calls queued now, in one
   * `res.write()` (plus `res.flush()` behind `compression`), instead of at the end of the turn.
   * For a frame that should leave at once, e.g. a keep-alive comment sent from a timer. Does
   * nothing when nothing is pending or the stream is closed.
   */
  flush(): void {
    this.#flush();
  }

  /** Writes what is pending and ends the response. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#shutdown();
    if (!this.#res.writableEnded) this.#res.end();
  }

  #enqueue(frame: string): Promise<void> {
    this.#pending += frame;
    this.lastWriteAt = Date.now();
    if (this.#pending.length >= this.#flushBytes) this.#flush();
    else this.#immediate ??= setImmediate(this.#flushNow);
    return this.#drain ?? RESOLVED;
  }

  #flush(): void {
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    const res = this.#res;
    if (this.#pending === '' || res.writableEnded || res.destroyed) return;
    const ok = res.write(this.#pending);
    this.#pending = '';
    // Behind `compression`, write() lands in zlib; flush() pushes it out as its own chunk.
    res.flush?.();
    if (!ok && !this.#drain) {
      this.#drain = new Promise((resolve) => (this.#drainDone = resolve));
      res.once('drain', this.#onDrain);
    }
  }

  #releaseDrain(): void {
    this.#res.removeListener('drain', this.#onDrain);
    const done = this.#drainDone;
    this.#drain = this.#drainDone = undefined;
    done?.();
  }

  #shutdown(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#controller?.abort();
    }
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#pending = '';
    this.#releaseDrain();
  }
}

// V8 forgets a hidden class once no object of it is alive, and throws away the optimized code that
// checks it ("weak objects"). A full GC between two event streams collected every SSEStream, so
// send() ran unoptimized at the next stream until compiled again. One idle stream over a stand-in
// response, never written to, keeps the class. Exported so that it outlives the module's
// evaluation (a constant no function refers to is let go); index.ts does not re-export it.
export const idleStream = new SSEStream(
  { headers: {} } as IncomingMessage,
  { once: () => undefined } as unknown as ServerResponse,
);

function readLastEventId(req: IncomingMessage): string | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return header;
  // EventSource polyfills that cannot set headers send it in the query string instead.
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q === -1 || !url.includes('lastEventId', q)) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get('lastEventId');
  return value === null || value === '' ? undefined : value;
}

/**
 * Opens a Server-Sent Events response on `res` and returns its handle: sets the event-stream
 * headers, flushes them at once and starts watching for the client to leave. Idempotent: a second
 * call on the same `res` returns the same stream (and ignores its options), so packages that need a
 * stream can call it whether or not `sse()` ran first.
 */
export function createSSEStream(req: IncomingMessage, res: ServerResponse, options: SSEStreamOptions = {}): SSEStream {
  const existing = (res as Flushable)[STREAM];
  if (existing) return existing;
  if (options.retryMs !== undefined) formatRetry(options.retryMs); // validate before touching res
  const stream = new SSEStream(req, res, options);
  (res as Flushable)[STREAM] = stream;
  if (!res.headersSent) {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    // nginx buffers proxied responses unless told not to.
    res.setHeader('X-Accel-Buffering', 'no');
    for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
    res.flushHeaders();
  }
  if (req.method === 'HEAD') stream.close();
  else if (options.retryMs !== undefined) void stream.retry(options.retryMs);
  return stream;
}
