import type { IncomingMessage } from 'node:http';
import { createCollector, type CollectedEvent, type SSECollection } from './collector.js';
import { TestingTimeoutError } from './errors.js';

/** The part of a supertest/superagent request that `collectSSE` needs. */
export interface StreamableRequest {
  buffer(value: boolean): this;
  parse(fn: (res: unknown, done: (err: Error | null, body?: unknown) => void) => void): this;
  end(callback?: (err: unknown, res: unknown) => void): this;
  on?(event: 'error' | 'response', listener: (arg: unknown) => void): unknown;
}

/**
 * A cut response (ours or the server's) is a result for the collectors, not an error. superagent
 * re-emits it as 'error' on the request and on its own Response object, and either throws when
 * nobody listens; the `end()` callback is where a real failure (no response at all) shows.
 */
export function quietCutResponses(test: StreamableRequest): void {
  const ignore = () => {};
  test.on?.('error', ignore);
  test.on?.('response', (response) => (response as { on?: (event: 'error', fn: () => void) => void }).on?.('error', ignore));
}

/** Options for {@link collectSSE}. */
export interface CollectSSEOptions {
  /**
   * Stop reading (and disconnect) once this many events arrived.
   * @defaultValue `undefined` (read until the server ends the response)
   */
  count?: number;
  /**
   * Stop reading (and disconnect) after the first event for which this returns true.
   * @defaultValue `undefined`
   */
  until?: (event: CollectedEvent, events: CollectedEvent[]) => boolean;
  /**
   * Reject with `TestingTimeoutError` (carrying what arrived so far) if reading has not stopped by then.
   * @defaultValue `5000`
   */
  timeoutMs?: number;
}

/**
 * Reads an SSE response from a supertest request as it streams and resolves with the parsed
 * events, each with its arrival time. Parsing is done by `eventsource-parser`, the parser many
 * EventSource clients use, so what you assert on is what a client sees.
 *
 * @example
 * const { events } = await collectSSE(request(app).get('/feed'), { count: 3 });
 */
export function collectSSE(test: StreamableRequest, options: CollectSSEOptions = {}): Promise<SSECollection> {
  const t0 = Date.now();
  const { count, until, timeoutMs = 5000 } = options;
  const collector = createCollector(t0);
  const { collection } = collector;
  return new Promise((resolve, reject) => {
    let message: IncomingMessage | undefined;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (message && !message.complete) message.destroy();
      if (err) reject(err);
      else resolve(collection);
    };
    const timer = setTimeout(
      () => finish(new TestingTimeoutError(`collectSSE: no end after ${timeoutMs} ms`, collection)),
      timeoutMs,
    );
    collector.onEvent((event) => {
      if ((count !== undefined && collection.events.length >= count) || until?.(event, collection.events)) finish();
    });
    test.buffer(false).parse((res, done) => {
      message = res as IncomingMessage;
      collection.status = message.statusCode ?? 0;
      collection.headers = message.headers;
      message.setEncoding('utf8');
      message.on('data', (text: string) => collector.feed(text));
      // A cut response (ours or the server's) surfaces as 'aborted'/'error', not always as 'close'.
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        collection.complete = message!.complete;
        done(null, undefined);
        finish();
      };
      for (const event of ['end', 'close', 'aborted', 'error']) message.on(event, end);
    });
    quietCutResponses(test);
    test.end((err) => {
      // superagent reports our own disconnect (and non-2xx statuses) as errors; only a failure
      // to get a response at all is one.
      if (err && !message) finish(err as Error);
    });
  });
}
