import http from 'node:http';
import { createCollector, type CollectedEvent, type SSECollection } from './collector.js';
import { TestingTimeoutError } from './errors.js';

/** Options for {@link openSSE}. */
export interface OpenSSEOptions {
  /**
   * Request headers, e.g. `{ 'Last-Event-ID': '41' }`.
   * @defaultValue `{ Accept: 'text/event-stream' }`
   */
  headers?: Record<string, string>;
}

/** A live SSE connection from a raw HTTP client, for tests that disconnect mid-stream. */
export interface SSEConnection {
  /** What arrived so far; it keeps filling while the connection is open. */
  readonly collection: SSECollection;
  /** Resolves once at least `n` events arrived; rejects with `TestingTimeoutError` after `timeoutMs` (default 5000). */
  waitFor(n: number, timeoutMs?: number): Promise<CollectedEvent[]>;
  /** Cuts the connection as a client going away would (socket destroyed) and resolves once it is closed. */
  disconnect(): Promise<void>;
  /** Resolves when the response ended or was cut, from either side. */
  readonly closed: Promise<void>;
}

/**
 * Opens `url` with a plain `http.get` (no agent, no retries) and parses the SSE response as it
 * arrives. Resolves once the response headers are in.
 */
export function openSSE(url: string, options: OpenSSEOptions = {}): Promise<SSEConnection> {
  const t0 = Date.now();
  const collector = createCollector(t0);
  const { collection } = collector;
  const waiters = new Set<() => void>();
  collector.onEvent(() => waiters.forEach((check) => check()));

  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { Accept: 'text/event-stream', ...options.headers } });
    req.on('error', (err) => {
      if (!req.destroyed || !collection.status) reject(err);
    });
    req.on('response', (res) => {
      collection.status = res.statusCode ?? 0;
      collection.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (text: string) => collector.feed(text));
      res.on('error', () => {}); // 'aborted' after our own disconnect()
      const closed = new Promise<void>((done) =>
        res.once('close', () => {
          collection.complete = res.complete;
          waiters.forEach((check) => check());
          done();
        }),
      );
      resolve({
        collection,
        closed,
        waitFor(n, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new TestingTimeoutError(`openSSE: ${collection.events.length}/${n} events after ${timeoutMs} ms`, collection));
            }, timeoutMs);
            function check() {
              const enough = collection.events.length >= n;
              if (!enough && !res.closed) return;
              waiters.delete(check);
              clearTimeout(timer);
              if (enough) ok(collection.events.slice(0, n));
              else fail(new TestingTimeoutError(`openSSE: closed after ${collection.events.length}/${n} events`, collection));
            }
            waiters.add(check);
            check();
          });
        },
        disconnect() {
          req.destroy();
          return closed;
        },
      });
    });
  });
}
