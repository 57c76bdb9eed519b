import type { SSEStream } from '@sluice/sse-encoder';
import { Seam } from './seam.js';
import type { StoredEvent, Unsubscribe } from './types.js';

// Above this many queued bytes, the replay waits for the socket ('drain') before writing more.
const REPLAY_HIGH_WATER = 64 * 1024;
// A cut-off client that does not even read its retry hint is dropped after this long.
const CUT_OFF_GRACE_MS = 5000;

/**
 * One client following one stream: holds live events while the replay is written, then sends
 * them (minus the overlap) and follows live, cutting the client off if it falls too far behind.
 */
export class Subscriber {
  readonly stream: SSEStream;
  readonly #res: import('node:http').ServerResponse;
  readonly #maxBufferedBytes: number;
  readonly #retryMs: number;
  /** Live events that arrived during the replay; null once following live. */
  #held: StoredEvent[] | null = [];
  #heldBytes = 0;
  #seam = new Seam([]);
  #unsubscribe: Unsubscribe | undefined;

  constructor(stream: SSEStream, res: import('node:http').ServerResponse, maxBufferedBytes: number, retryMs: number) {
    this.stream = stream;
    this.#res = res;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#retryMs = retryMs;
  }

  /** The store's callback; must never throw. */
  readonly onEvent = (event: StoredEvent): void => {
    if (this.stream.closed) return;
    if (this.#held) {
      this.#held.push(event);
      this.#heldBytes += event.encoded.frame.length;
      if (this.#heldBytes > this.#maxBufferedBytes) this.end();
      return;
    }
    if (!this.#seam.accepts(event)) return;
    void this.stream.send(event.encoded);
    if (this.stream.bufferedBytes > this.#maxBufferedBytes) this.end();
  };

  /** Keeps the store's unsubscribe, or calls it at once if the client already left. */
  attach(unsubscribe: Unsubscribe): void {
    if (this.stream.closed) unsubscribe();
    else this.#unsubscribe = unsubscribe;
  }

  detach(): void {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    this.#held = null;
    unsubscribe?.();
  }

  /** Writes `events` with backpressure, then the held live events, then switches to live. */
  async replay(events: readonly StoredEvent[]): Promise<void> {
    for (const event of events) {
      const written = this.stream.send(event.encoded);
      if (this.stream.bufferedBytes > REPLAY_HIGH_WATER) await written;
      if (this.stream.closed) return;
    }
    this.#seam = new Seam(events);
    const held = this.#held ?? [];
    // More events may be held while we wait for 'drain' below; the loop picks them up.
    for (let i = 0; i < held.length; i++) {
      const event = held[i]!;
      this.#heldBytes -= event.encoded.frame.length;
      if (!this.#seam.accepts(event)) continue;
      const written = this.stream.send(event.encoded);
      if (this.stream.bufferedBytes > REPLAY_HIGH_WATER) await written;
      if (this.stream.closed) return;
    }
    this.#held = null;
    this.#heldBytes = 0;
  }

  /** Ends the stream with a retry hint so the client reconnects and resumes. */
  end(): void {
    if (this.stream.closed) return;
    void this.stream.retry(this.#retryMs);
    this.stream.close();
    const res = this.#res;
    if (res.writableFinished || res.destroyed) return;
    // end() waits for the socket to take the queued bytes; a client that stopped reading would
    // hold them forever.
    const timer = setTimeout(() => res.destroy(), CUT_OFF_GRACE_MS).unref();
    res.once('close', () => clearTimeout(timer));
  }
}
