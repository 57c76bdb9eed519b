import { encodeEvent, type SSEEvent } from '@sluice/sse-encoder';
import { formatId, newEpoch, parseId } from './ids.js';
import { Ring } from './ring.js';
import type { EventStore, ReadResult, StoredEvent, Unsubscribe } from './types.js';

/** Options for {@link MemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /**
   * Events kept per stream (a ring buffer): appending one more evicts the oldest.
   * @defaultValue `1000`
   */
  maxEvents?: number;
  /**
   * Milliseconds an event is kept. Enforced lazily when the stream is appended to or read (no
   * timer runs).
   * @defaultValue `undefined` (kept until pushed out by `maxEvents`)
   */
  ttlMs?: number;
  /**
   * Streams kept. Creating one more drops the stream written least recently that nobody follows
   * (its ids then read back as `expired`), so per-task streams (a feed per user, a resumable
   * LLM generation per request) cannot pile up in memory. Streams with subscribers are never
   * dropped. With `ttlMs`, a stream idle for that long is dropped as other streams are written.
   * @defaultValue `10000`
   */
  maxStreams?: number;
}

interface StreamState {
  readonly name: string;
  readonly ring: Ring;
  readonly subscribers: Set<(event: StoredEvent) => void>;
  /** `Date.now()` of the last append (or of creation). */
  writtenAt: number;
}

/** Streams looked at per append for dropping: bounded work, however many streams exist. */
const SWEEP_PER_WRITE = 4;

/**
 * The embedded {@link EventStore}: a ring buffer per stream in this process's memory. Ids are
 * `<epoch>-<seq>`, opaque to clients; a new store (a restarted server) has a new epoch, so old ids
 * read back as `unknown`. Appends deliver synchronously to subscribers, in order.
 */
export class MemoryEventStore implements EventStore {
  readonly #epoch = newEpoch();
  readonly #maxEvents: number;
  readonly #ttlMs: number;
  readonly #maxStreams: number;
  /** In order of last write (a written stream moves to the end): the front is the idlest. */
  readonly #streams = new Map<string, StreamState>();
  #seq = 0;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 1000;
    this.#ttlMs = options.ttlMs ?? Infinity;
    this.#maxStreams = options.maxStreams ?? 10_000;
    if (!Number.isSafeInteger(this.#maxStreams) || this.#maxStreams < 1) {
      throw new TypeError(`MemoryEventStore({ maxStreams }) must be a positive integer, got ${String(options.maxStreams)}`);
    }
    if (!Number.isSafeInteger(this.#maxEvents) || this.#maxEvents < 1) {
      throw new TypeError(`MemoryEventStore({ maxEvents }) must be a positive integer, got ${String(options.maxEvents)}`);
    }
    if (options.ttlMs !== undefined && (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 1)) {
      throw new TypeError(`MemoryEventStore({ ttlMs }) must be a positive integer, got ${String(options.ttlMs)}`);
    }
  }

  /**
   * Stores and broadcasts an event; the frame is encoded once here. Throws `SSEFormatError` (and
   * stores nothing) for an event that cannot be framed. If a subscriber throws, the others still
   * get the event and the first error is rethrown to the caller afterwards.
   */
  append(stream: string, event: SSEEvent): string {
    checkStream(stream);
    if (event === null || typeof event !== 'object') {
      throw new TypeError(`append(stream, event) expects an event object such as { data }, got ${typeof event}`);
    }
    if (event.id !== undefined) throw new TypeError('append(): leave event.id unset; the store assigns ids');
    const seq = this.#seq + 1;
    const id = formatId(this.#epoch, seq);
    const full = { ...event, id };
    const stored: StoredEvent = { id, event: full, encoded: encodeEvent(full) };
    this.#seq = seq; // only once encoding succeeded, so a rejected event burns no id
    const now = Date.now();
    const state = this.#state(stream, true);
    state.ring.push(seq, now, stored);
    if (state.ring.size > this.#maxEvents) state.ring.evictOldest();
    this.#expire(state, now);
    this.#touch(state, now);
    this.#sweep(now);
    let failure: { error: unknown } | undefined;
    for (const onEvent of state.subscribers) {
      try {
        onEvent(stored);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return id;
  }

  readAfter(stream: string, lastId: string | undefined): ReadResult {
    checkStream(stream);
    const state = this.#streams.get(stream);
    if (state) this.#expire(state, Date.now());
    const all = (): StoredEvent[] => (state ? state.ring.after(-1) : []);
    if (lastId === undefined) return { status: 'ok', events: all() };
    const parsed = parseId(this.#epoch, lastId);
    if (parsed.kind === 'malformed') return { status: 'malformed', events: all() };
    if (parsed.kind === 'foreign' || parsed.seq > this.#seq) return { status: 'unknown', events: all() };
    // A stream with no state had all its events evicted; we cannot tell whether this client saw
    // them, so say so rather than risk silent loss.
    if (!state || parsed.seq < state.ring.evictedSeq) return { status: 'expired', events: all() };
    return { status: 'ok', events: state.ring.after(parsed.seq) };
  }

  subscribe(stream: string, _afterId: string | undefined, onEvent: (event: StoredEvent) => void): Unsubscribe {
    checkStream(stream);
    if (typeof onEvent !== 'function') throw new TypeError('subscribe(stream, afterId, onEvent): onEvent must be a function');
    const state = this.#state(stream, true);
    // Wrapped so the same function can subscribe twice and each unsubscribe removes only its own.
    const listener = (event: StoredEvent) => onEvent(event);
    state.subscribers.add(listener);
    return () => {
      if (!state.subscribers.delete(listener)) return;
      this.#dropIfUnused(state);
    };
  }

  /** Subscribers of `stream`, or of all streams when omitted (for metrics and leak checks). */
  subscriberCount(stream?: string): number {
    if (stream !== undefined) return this.#streams.get(stream)?.subscribers.size ?? 0;
    let total = 0;
    for (const state of this.#streams.values()) total += state.subscribers.size;
    return total;
  }

  /** Streams held (with retained events or subscribers), for metrics and leak checks. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Events currently retained for `stream`. */
  size(stream: string): number {
    return this.#streams.get(stream)?.ring.size ?? 0;
  }

  #state(stream: string, create: true): StreamState {
    let state = this.#streams.get(stream);
    // A fresh state may replace one dropped after eviction, so ids issued before it count as
    // possibly having missed events (conservative: a reset rather than silent loss).
    if (!state && create) {
      state = { name: stream, ring: new Ring(this.#seq), subscribers: new Set(), writtenAt: Date.now() };
      this.#streams.set(stream, state);
    }
    return state!;
  }

  /** Moves a written stream to the end of the map, so the front stays the least recently written. */
  #touch(state: StreamState, now: number): void {
    state.writtenAt = now;
    this.#streams.delete(state.name);
    this.#streams.set(state.name, state);
  }

  /**
   * Drops streams from the idle end: over `maxStreams`, or untouched for `ttlMs` (all their events
   * are past it anyway). A few per write, skipping followed ones, so the cost never grows with
   * the number of streams and no timer is needed.
   */
  #sweep(now: number): void {
    let looked = 0;
    for (const state of this.#streams.values()) {
      if (looked++ >= SWEEP_PER_WRITE) return;
      const over = this.#streams.size > this.#maxStreams;
      if (!over && now - state.writtenAt < this.#ttlMs) return;
      if (state.subscribers.size > 0) continue;
      this.#streams.delete(state.name);
    }
  }

  #expire(state: StreamState, now: number): void {
    if (this.#ttlMs === Infinity) return;
    state.ring.evictUntil(now - this.#ttlMs);
    this.#dropIfUnused(state);
  }

  #dropIfUnused(state: StreamState): void {
    if (state.subscribers.size === 0 && state.ring.size === 0 && this.#streams.get(state.name) === state) {
      this.#streams.delete(state.name);
    }
  }
}

function checkStream(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
}
