import type { Request } from 'express';
import type { EventStore } from './types.js';

/**
 * What to do when a client's `Last-Event-ID` cannot be placed (unknown, malformed or expired).
 * Either way the client is told with a `reset` event; never a crash, never silent loss.
 * - `'reset'`: then replay from the oldest retained event, then follow live.
 * - `'reset-live'`: then follow live events only.
 */
export type UnknownIdPolicy = 'reset' | 'reset-live';

/** Options for {@link resume}. */
export interface ResumeOptions {
  /** Where the history lives, e.g. `new MemoryEventStore()`. Required. */
  store: EventStore;
  /** The stream to follow: a name, or a function of the request returning one. Required. */
  stream: string | ((req: Request) => string);
  /**
   * Policy for a `Last-Event-ID` the store cannot place.
   * @defaultValue `'reset'`
   */
  onUnknownId?: UnknownIdPolicy;
  /**
   * What a client without `Last-Event-ID` (a first connection) gets before the live events:
   * `'all'` retained events, or `'none'`.
   * @defaultValue `'all'`
   */
  history?: 'all' | 'none';
  /**
   * The `retry:` hint (ms) written when the stream opens and before the server ends it (byte cap,
   * `shutdown()`), so clients reconnect, and resume, after this long.
   * @defaultValue `3000`
   */
  retryMs?: number;
  /**
   * Unsent bytes (the stream's queue, the socket buffer and live events held during a replay)
   * above which a subscriber that cannot keep up is disconnected with a retry hint. It resumes
   * from its `Last-Event-ID` when it reconnects. Must exceed the largest burst published in one
   * turn of the event loop.
   * @defaultValue `1048576` (1 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Aborting this signal ends every stream served by this middleware (as `shutdown()` does);
   * share one signal between several `resume()` mounts to end them all at once.
   * @defaultValue `undefined`
   */
  signal?: AbortSignal;
  /**
   * Called with errors from the store (a rejected `subscribe()` or `readAfter()`), after the
   * client was sent an `error` event and a retry hint. Must not throw.
   * @defaultValue `undefined` (the client is told; nothing is logged)
   */
  onError?: (error: unknown, req: Request) => void;
}

export interface ResumeSettings {
  readonly store: EventStore;
  readonly streamOf: (req: Request) => string;
  readonly onUnknownId: UnknownIdPolicy;
  readonly history: 'all' | 'none';
  readonly retryMs: number;
  readonly maxBufferedBytes: number;
  readonly onError: ((error: unknown, req: Request) => void) | undefined;
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`resume({ ${name} }) must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Validates options once, when `resume()` is called. */
export function settle(options: ResumeOptions): ResumeSettings {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`resume(options) expects an object: resume({ store, stream: 'name' })`);
  }
  const { store, stream } = options;
  if (!store || typeof store.append !== 'function' || typeof store.readAfter !== 'function' || typeof store.subscribe !== 'function') {
    throw new TypeError('resume({ store }) must be an EventStore, e.g. resume({ store: new MemoryEventStore(), stream })');
  }
  if (typeof stream !== 'function' && (typeof stream !== 'string' || stream === '')) {
    throw new TypeError(`resume({ stream }) must be a non-empty string or (req) => string, e.g. stream: 'news'`);
  }
  const onUnknownId = options.onUnknownId ?? 'reset';
  if (onUnknownId !== 'reset' && onUnknownId !== 'reset-live') {
    throw new TypeError(`resume({ onUnknownId }) must be 'reset' or 'reset-live', got ${String(onUnknownId)}`);
  }
  const history = options.history ?? 'all';
  if (history !== 'all' && history !== 'none') {
    throw new TypeError(`resume({ history }) must be 'all' or 'none', got ${String(history)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TypeError('resume({ onError }) must be a function');
  }
  return {
    store,
    streamOf: typeof stream === 'function' ? stream : () => stream,
    onUnknownId,
    history,
    retryMs: integer('retryMs', options.retryMs, 3000, 0),
    maxBufferedBytes: integer('maxBufferedBytes', options.maxBufferedBytes, 1 << 20, 1),
    onError: options.onError,
  };
}
