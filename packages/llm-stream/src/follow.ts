import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { SSEStream } from '@sluice/sse-encoder';
import { resume, type EventStore, type StoredEvent } from '@sluice/sse-resume';
import type { CancelRegistry } from './cancel.js';

const TERMINAL = new Set(['done', 'error', 'cancelled']);
const isTerminal = (stored: StoredEvent) => TERMINAL.has(stored.event.event ?? '');

/**
 * Serves one generation's store stream with `resume()` (replay after `Last-Event-ID`, then live),
 * and ends the response once the terminal event was written: a generation is a finite feed.
 * @internal
 */
export function followGeneration(
  req: IncomingMessage,
  res: ServerResponse,
  store: EventStore,
  name: string,
  next: (error?: unknown) => void,
): void {
  let ending = false;
  let timer: NodeJS.Timeout | undefined;
  // The terminal event may still be queued behind a replay that waits for 'drain': close only once
  // everything accepted was handed to the socket (close() flushes what is pending, then ends).
  const check = () => {
    timer = undefined;
    const stream = (res as { sse?: SSEStream }).sse;
    if (!stream || stream.closed) return;
    if (stream.bufferedBytes === 0) return stream.close();
    timer = setTimeout(check, 10).unref();
  };
  const finish = () => {
    if (ending) return;
    ending = true;
    res.once('close', () => clearTimeout(timer));
    timer = setTimeout(check, 0).unref();
  };
  // A view of the store that notices the terminal event on either path (replay or live).
  const view: EventStore = {
    append: (stream, event) => store.append(stream, event),
    readAfter: async (stream, lastId) => {
      const result = await store.readAfter(stream, lastId);
      if (result.events.some(isTerminal)) finish();
      return result;
    },
    subscribe: (stream, afterId, onEvent, onEnd) =>
      store.subscribe(
        stream,
        afterId,
        (event) => {
          onEvent(event);
          if (isTerminal(event)) finish();
        },
        onEnd,
      ),
  };
  resume({ store: view, stream: name, history: 'all' })(req as Request, res as Response, next);
}

/** Options for {@link resumeGeneration}. */
export interface ResumeGenerationOptions {
  /** The store given to `llmStream(…, { resume: { store } })`. Required. */
  store: EventStore;
  /**
   * The store stream of a generation id; must match `llmStream`'s `resume.streamName`.
   * @defaultValue `(id) => 'llm:' + id`
   */
  streamName?: (id: string) => string;
  /**
   * The registry given to `llmStream(…, { registry })`. A reconnect to the instance running the
   * generation then counts as a client: `keepRunningMs` restarts only when the last one left.
   * @defaultValue `undefined` (only the client that started it counts)
   */
  registry?: CancelRegistry;
  /**
   * Name of the route parameter that holds the generation id (`/chat/:id/stream`).
   * @defaultValue `'id'`
   */
  param?: string;
}

/**
 * An Express handler for `GET /chat/:id/stream`: replays a generation's events after the
 * client's `Last-Event-ID` (all of them without one), follows it live until its terminal event,
 * then ends. 404 JSON for an id the store has no events for. Works on any instance sharing the store.
 */
export function resumeGeneration(options: ResumeGenerationOptions): RequestHandler {
  const { store, streamName = defaultStreamName, param = 'id', registry } = options ?? ({} as ResumeGenerationOptions);
  if (!store || typeof store.readAfter !== 'function' || typeof store.subscribe !== 'function') {
    throw new TypeError('resumeGeneration({ store }) must be the EventStore given to llmStream(…, { resume: { store } })');
  }
  if (typeof streamName !== 'function') throw new TypeError('resumeGeneration({ streamName }) must be a function (id) => string');
  return function resumeGeneration(req, res, next) {
    const id = (req.params as Record<string, string | undefined>)[param];
    const notFound = () => {
      res.status(404).set('Cache-Control', 'no-store').json({ error: { code: 'not_found', message: 'No generation has this id' } });
    };
    if (typeof id !== 'string' || id === '') return notFound();
    const name = streamName(id);
    // Existence check: a generation's stream holds at least its `start` event from the moment it opens.
    Promise.resolve(store.readAfter(name, undefined)).then(({ events }) => {
      if (events.length === 0) return notFound();
      const leave = registry?.follow(id);
      if (leave) res.once('close', leave);
      followGeneration(req, res, store, name, next);
    }, next);
  };
}

/** `llm:<id>`: the default store stream of a generation. @internal */
export const defaultStreamName = (id: string): string => `llm:${id}`;

/** The control stream through which {@link cancelGeneration} reaches the instance running a generation. @internal */
export const cancelStreamOf = (name: string): string => `${name}:cancel`;

/**
 * An Express handler for `POST /cancel/:id` that works on every instance sharing the store (the
 * registry's route only reaches generations of its own process): the instance running the
 * generation aborts its upstream and the stream ends with `cancelled`. 202 JSON
 * `{ id, cancelling: true }`; 404 JSON for an unknown id; 409 JSON when it already ended. No
 * `authorize` hook: put your own check before it in the route.
 */
export function cancelGeneration(options: ResumeGenerationOptions): RequestHandler {
  const { store, streamName = defaultStreamName, param = 'id' } = options ?? ({} as ResumeGenerationOptions);
  if (!store || typeof store.readAfter !== 'function' || typeof store.append !== 'function') {
    throw new TypeError('cancelGeneration({ store }) must be the EventStore given to llmStream(…, { resume: { store } })');
  }
  return function cancelGeneration(req, res, next) {
    const id = (req.params as Record<string, string | undefined>)[param];
    const reply = (status: number, body: unknown) => void res.status(status).set('Cache-Control', 'no-store').json(body);
    if (typeof id !== 'string' || id === '') return reply(404, { error: { code: 'not_found', message: 'No generation has this id' } });
    const name = streamName(id);
    Promise.resolve(store.readAfter(name, undefined))
      .then(async ({ events }) => {
        if (events.length === 0) return reply(404, { error: { code: 'not_found', message: 'No generation has this id' } });
        if (events.some(isTerminal)) return reply(409, { error: { code: 'not_running', message: 'The generation already ended' } });
        await store.append(cancelStreamOf(name), { event: 'cancel', data: '{}' });
        reply(202, { id, cancelling: true });
      })
      .catch(next);
  };
}
