import type { EncodedEvent, SSEEvent } from '@sluice/sse-encoder';

/** One event as kept by an {@link EventStore}. */
export interface StoredEvent {
  /** The id the store assigned: opaque to clients, strictly increasing within its stream. */
  readonly id: string;
  /** The event as appended, with `id` set. */
  readonly event: Readonly<SSEEvent> & { readonly id: string };
  /**
   * The frame encoded once (with `encodeEvent`) when the event was stored, so a broadcast to many
   * subscribers serializes it once, not once per subscriber.
   */
  readonly encoded: EncodedEvent;
}

/**
 * How a store placed the `lastId` given to {@link EventStore.readAfter}:
 * - `ok`: known (or none given); `events` are exactly the retained events after it.
 * - `expired`: the store's own id, but events after it were already evicted (`maxEvents`/`ttlMs`).
 * - `unknown`: well-formed but not from this store's history (another server, or a restart).
 * - `malformed`: not an id this store could have issued.
 *
 * For every status but `ok`, `events` holds every retained event, oldest first.
 */
export type ReadStatus = 'ok' | 'expired' | 'unknown' | 'malformed';

/** What {@link EventStore.readAfter} returns. */
export interface ReadResult {
  readonly status: ReadStatus;
  /** Events in append order (oldest first). */
  readonly events: readonly StoredEvent[];
}

/** Stops a subscription. Idempotent. */
export type Unsubscribe = () => void;

/**
 * Where resumable streams keep their history. Every method may return a promise, so a network
 * store (Redis Streams, a database) implements the same interface as the in-memory one.
 */
export interface EventStore {
  /**
   * Stores `event` at the end of `stream` and delivers it to the stream's subscribers.
   * `event.id` must be left unset: the store assigns it.
   * @returns the assigned id, greater than every earlier id of `stream`.
   */
  append(stream: string, event: SSEEvent): string | Promise<string>;
  /**
   * The retained events of `stream` after `lastId`, oldest first; `lastId` undefined means all.
   * Never throws for a bad `lastId`: that is reported in `status`.
   */
  readAfter(stream: string, lastId: string | undefined): ReadResult | Promise<ReadResult>;
  /**
   * Calls `onEvent`, in order, for every event appended to `stream` once the subscription is
   * established (the returned promise, if any, has settled). A store may also deliver earlier
   * events after `afterId` (for example Redis `XREAD` from that id); `resume()` drops any it
   * already replayed, so that is allowed.
   *
   * A network store calls `onEnd` (at most once, and then nothing more) when it can no longer
   * deliver the stream in order, e.g. after its connection dropped; `resume()` then ends the
   * response with a retry hint so the client reconnects and resumes from its `Last-Event-ID`.
   */
  subscribe(
    stream: string,
    afterId: string | undefined,
    onEvent: (event: StoredEvent) => void,
    onEnd?: (error: Error) => void,
  ): Unsubscribe | Promise<Unsubscribe>;
}
