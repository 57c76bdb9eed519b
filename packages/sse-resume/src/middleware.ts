import type { Request, RequestHandler } from 'express';
import { createSSEStream, routeContinuesAfter } from '@sluice/sse-encoder';
import { ResumeError } from './errors.js';
import { settle, type ResumeOptions, type ResumeSettings } from './options.js';
import { Subscriber } from './subscriber.js';

/** The handler returned by {@link resume}, with its shutdown control. */
export interface ResumeHandler extends RequestHandler {
  /**
   * Ends every open stream of this middleware with a retry hint, so clients reconnect (and
   * resume) elsewhere; later requests get a retry hint and an immediate end. For deploys and
   * restarts. Idempotent.
   */
  shutdown(): void;
  /** Number of streams currently open. */
  readonly size: number;
}

/**
 * Route handler for a resumable feed: replays the events the client missed after its
 * `Last-Event-ID` (header, or `lastEventId` query parameter), then follows live events, with no
 * gap and no duplicate. It owns the response: it calls `next()` only when more handlers follow it
 * in the same route (`app.get(path, resume(…), keepalive())`), never into the 404 handler.
 */
export function resume(options: ResumeOptions): ResumeHandler {
  const settings = settle(options);
  const open = new Set<Subscriber>();
  let shutDown = false;

  function shutdown(): void {
    shutDown = true;
    for (const subscriber of open) subscriber.end();
  }
  if (options.signal?.aborted) shutDown = true;
  else options.signal?.addEventListener('abort', shutdown, { once: true });

  const handler = function resume(req, res, next) {
    let name: string;
    try {
      name = settings.streamOf(req);
      if (typeof name !== 'string' || name === '') {
        throw new ResumeError('INVALID_STREAM', `resume({ stream }) returned ${JSON.stringify(name)}; expected a non-empty string`);
      }
    } catch (error) {
      next(error);
      return;
    }
    const stream = createSSEStream(req, res);
    res.sse = stream;
    if (stream.closed) return; // HEAD, or the client already left: nothing to follow
    const subscriber = new Subscriber(stream, res, settings.maxBufferedBytes, settings.retryMs);
    if (shutDown) {
      subscriber.end();
      return;
    }
    void stream.retry(settings.retryMs);
    open.add(subscriber);
    stream.signal.addEventListener(
      'abort',
      () => {
        open.delete(subscriber);
        subscriber.detach();
      },
      { once: true },
    );
    follow(settings, req, name, subscriber).catch((error: unknown) => fail(settings, req, subscriber, error));
    // Handlers after it in the same route (keepalive(), a welcome event) still run.
    if (routeContinuesAfter(req, handler) === true) next();
  } as ResumeHandler;
  handler.shutdown = shutdown;
  Object.defineProperty(handler, 'size', { get: () => open.size });
  return handler;
}

async function follow(settings: ResumeSettings, req: Request, name: string, subscriber: Subscriber): Promise<void> {
  const { store } = settings;
  const lastId = subscriber.stream.lastEventId;
  // Subscribe BEFORE reading: events appended while we read and replay are held, not lost.
  // A store that loses the feed (a dropped Redis connection) ends the stream: the client resumes.
  const onEnd = (error: Error) => fail(settings, req, subscriber, error);
  subscriber.attach(await store.subscribe(name, lastId, subscriber.onEvent, onEnd));
  if (subscriber.stream.closed) return;
  if (lastId === undefined && settings.history === 'none') return subscriber.replay([]);
  const { status, events } = await store.readAfter(name, lastId);
  if (subscriber.stream.closed) return;
  if (status === 'ok') return subscriber.replay(events);
  void subscriber.stream.send({ event: 'reset', data: { reason: status, lastEventId: lastId } });
  return subscriber.replay(settings.onUnknownId === 'reset' ? events : []);
}

function fail(settings: ResumeSettings, req: Request, subscriber: Subscriber, cause: unknown): void {
  const error = new ResumeError('STORE_FAILED', `event store failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
  if (!subscriber.stream.closed) void subscriber.stream.send({ event: 'error', data: { code: error.code } });
  subscriber.end();
  try {
    settings.onError?.(error, req);
  } catch {
    // onError is documented not to throw; a throwing logger must not take the process down.
  }
}
