import type { ServerResponse } from 'node:http';
import type { SSEStream } from '@sluice/sse-encoder';
import type { Socket } from 'node:net';
import { canWriteDirect, directSocket } from './direct.js';
import type { KeepalivePolicy } from './options.js';

/** Options for {@link KeepaliveScheduler}. */
export interface KeepaliveSchedulerOptions {
  /**
   * Width of one bucket of the timer wheel, in milliseconds: a ping or timeout fires up to this
   * much later than its exact time, and the single timer wakes at most once per bucket.
   * @defaultValue `1000`
   */
  resolutionMs?: number;
}

interface Entry {
  readonly stream: SSEStream;
  readonly res: ServerResponse;
  readonly policy: KeepalivePolicy;
  readonly startedAt: number;
  /** Last write that was not our own ping (for `idleTimeoutMs`). */
  activityAt: number;
  /** `stream.lastWriteAt` right after our last ping, to tell our pings from the app's writes. */
  pingedAt: number;
  /** Bucket the entry sits in; -1 while detached (being visited or removed). */
  tick: number;
  /** Index in its bucket, for O(1) removal by swapping with the bucket's last entry. */
  slot: number;
  removed: boolean;
  /** Where pings may be written directly (see `directSocket`); undefined until the first ping. */
  socket: Socket | null | undefined;
  onClose: () => void;
}

/**
 * Watches many SSE streams with ONE unref'd timer: a coarse timer wheel of `resolutionMs` buckets
 * keyed by due time. A stream is looked at once per interval, not per write: writes only move
 * `stream.lastWriteAt`, and a stream found busy when its bucket comes up is simply re-filed. The
 * timer is cleared as soon as no stream is watched. Holds no module-level state: each instance is
 * independent, so one per process means creating one and passing it to every `keepalive()`.
 */
/**
 * Streams visited per timer callback. Thousands of pings written in one synchronous burst keep
 * every write request alive until the loop gets to their completions, so they outlive a scavenge
 * and end up as old-generation garbage; in slices, each batch completes before the next starts.
 */
const VISITS_PER_TURN = 256;

export class KeepaliveScheduler {
  readonly #resolutionMs: number;
  // Arrays rather than Sets: a bucket lives for a whole interval, so whatever it allocates ends up
  // in the old generation; an array slot is 4-8 bytes where a Set entry is a hash-table row, and
  // emptying an array by pop() never rehashes.
  readonly #buckets = new Map<number, Entry[]>();
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerTick = Infinity;
  #visiting = false;
  readonly #onTimer = () => this.#run();

  constructor(options: KeepaliveSchedulerOptions = {}) {
    const res = options.resolutionMs ?? 1000;
    if (!Number.isSafeInteger(res) || res < 1) {
      throw new TypeError(`KeepaliveScheduler({ resolutionMs }) must be a positive integer, got ${String(res)}`);
    }
    this.#resolutionMs = res;
  }

  /** Number of streams being watched. */
  get size(): number {
    return this.#size;
  }

  /** Whether the scheduler's timer is armed (false whenever no stream is watched). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts watching `stream` until it closes. @internal Used by `keepalive()`. */
  watch(stream: SSEStream, res: ServerResponse, policy: KeepalivePolicy): void {
    if (stream.closed) return;
    const now = Date.now();
    const entry: Entry = {
      stream, res, policy, startedAt: now, activityAt: stream.lastWriteAt, pingedAt: -1, tick: -1, slot: -1, removed: false, socket: undefined,
      onClose: () => this.#remove(entry),
    };
    // The response's 'close' (client gone, or the stream closed and ended), not `stream.signal`:
    // that would allocate an AbortController per idle stream, ~1 KB of heap each that every full
    // GC walks. A stream closed by the app is also dropped at its next visit.
    res.once('close', entry.onClose);
    this.#size++;
    this.#place(entry, now);
  }

  #place(entry: Entry, now: number): void {
    const { policy, stream } = entry;
    const due = Math.min(
      policy.intervalMs > 0 ? stream.lastWriteAt + policy.intervalMs : Infinity,
      entry.activityAt + policy.idleTimeoutMs,
      entry.startedAt + policy.maxDurationMs,
    );
    // Rounding up keeps the guarantee "never before the window has passed".
    const tick = Math.max(Math.ceil(due / this.#resolutionMs), Math.floor(now / this.#resolutionMs) + 1);
    let bucket = this.#buckets.get(tick);
    if (!bucket) this.#buckets.set(tick, (bucket = []));
    entry.slot = bucket.push(entry) - 1;
    entry.tick = tick;
    if (!this.#visiting && tick < this.#timerTick) this.#arm(tick, now);
  }

  #remove(entry: Entry): void {
    if (entry.removed) return;
    entry.removed = true;
    entry.res.removeListener('close', entry.onClose);
    const bucket = entry.tick === -1 ? undefined : this.#buckets.get(entry.tick);
    if (bucket) {
      const last = bucket.pop()!;
      if (last !== entry) bucket[(last.slot = entry.slot)] = last;
      if (bucket.length === 0) this.#buckets.delete(entry.tick);
    }
    entry.tick = -1;
    if (--this.#size === 0) this.#disarm();
  }

  #arm(tick: number, now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerTick = tick;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, tick * this.#resolutionMs - now));
    // A keep-alive must never be what keeps the process alive.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerTick = Infinity;
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerTick = Infinity;
    const now = Date.now();
    const nowTick = Math.floor(now / this.#resolutionMs);
    let budget = VISITS_PER_TURN;
    this.#visiting = true;
    try {
      for (const [tick, bucket] of this.#buckets) {
        if (tick > nowTick) continue;
        // Taken from the end, so removing any other entry during a visit (swap with the last)
        // never moves one we have not seen yet into a slot we have passed.
        while (bucket.length > 0 && budget > 0) {
          budget--;
          const entry = bucket.pop()!;
          entry.tick = -1;
          this.#visit(entry, now);
          // Re-filed in a later bucket, never this one.
          if (!entry.removed) this.#place(entry, now);
        }
        if (bucket.length === 0) this.#buckets.delete(tick);
        if (budget === 0) break;
      }
    } finally {
      this.#visiting = false;
    }
    // Few buckets exist (about window / resolution), so finding the next one is cheap. Entries
    // left over from this turn are still due: the timer then fires again on the next loop turn.
    let next = Infinity;
    for (const tick of this.#buckets.keys()) if (tick < next) next = tick;
    if (next !== Infinity) this.#arm(next, now);
  }

  #visit(entry: Entry, now: number): void {
    const { stream, policy } = entry;
    if (stream.closed) return this.#remove(entry);
    if (stream.lastWriteAt !== entry.pingedAt) entry.activityAt = Math.max(entry.activityAt, stream.lastWriteAt);
    if (now - entry.startedAt >= policy.maxDurationMs || now - entry.activityAt >= policy.idleTimeoutMs) {
      void stream.retry(policy.retryMs);
      stream.close();
      this.#remove(entry);
      return;
    }
    if (policy.intervalMs > 0 && now - stream.lastWriteAt >= policy.intervalMs) this.#ping(entry, now);
  }

  /**
   * Written now, not at the end of the turn: an idle stream has nothing pending to coalesce with,
   * and 10,000 due pings become one batch of writes in this callback instead of 10,000 queued
   * Immediates. Bytes still queued mean the connection is not idle at the TCP level; a ping would
   * only add to a backlog a slow client is not reading, so none is written then.
   */
  #ping(entry: Entry, now: number): void {
    const { stream, res, policy } = entry;
    if (entry.socket === undefined) entry.socket = directSocket(res);
    const socket = entry.socket;
    if (socket && canWriteDirect(res, socket)) {
      if (socket.writableLength !== 0) return;
      socket.write(policy.pingChunk);
      // Bypassed the stream, so its idle clock is moved here.
      stream.lastWriteAt = entry.pingedAt = now;
      return;
    }
    if (stream.bufferedBytes !== 0) return;
    void stream.send(policy.ping);
    stream.flush();
    entry.pingedAt = stream.lastWriteAt;
  }
}
