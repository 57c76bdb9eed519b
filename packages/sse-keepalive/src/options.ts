import { encodeEvent, type EncodedEvent } from '@sluice/sse-encoder';
import { chunkOf } from './direct.js';
import type { KeepaliveScheduler } from './scheduler.js';

/** Options for {@link keepalive}. */
export interface KeepaliveOptions {
  /**
   * Milliseconds of silence on a stream after which a comment line is written. Any event or
   * comment resets the clock. `0` disables the pings (the timeouts below still apply).
   * @defaultValue `15000`
   */
  intervalMs?: number;
  /**
   * Text of the keep-alive comment (written as `: ping`). Clients ignore comments.
   * @defaultValue `'ping'`
   */
  comment?: string;
  /**
   * Ends a stream that sent no event or comment of its own (keep-alive pings do not count) for
   * this many milliseconds, after a `retry:` hint so the client reconnects.
   * @defaultValue `undefined` (never)
   */
  idleTimeoutMs?: number;
  /**
   * Ends a stream this many milliseconds after it opened, after a `retry:` hint, so long-lived
   * connections are spread again over servers (deploys, load balancing).
   * @defaultValue `undefined` (never)
   */
  maxDurationMs?: number;
  /**
   * The `retry:` hint (ms) written before a stream is ended by `idleTimeoutMs` or `maxDurationMs`.
   * @defaultValue `3000`
   */
  retryMs?: number;
  /**
   * The scheduler that watches the streams. By default each `keepalive()` call owns one, created
   * at its first request; pass one from `new KeepaliveScheduler()` to share a single timer between
   * several mounts.
   * @defaultValue `undefined` (one scheduler per `keepalive()` call)
   */
  scheduler?: KeepaliveScheduler;
}

/** Options normalised once per `keepalive()` call. @internal */
export interface KeepalivePolicy {
  readonly intervalMs: number;
  readonly comment: string;
  /** The comment framed once per `keepalive()` call, not once per ping. */
  readonly ping: EncodedEvent;
  /** The same frame as one HTTP/1.1 chunk, for pings written straight to the socket. */
  readonly pingChunk: Buffer;
  readonly idleTimeoutMs: number;
  readonly maxDurationMs: number;
  readonly retryMs: number;
}

function duration(name: string, value: number | undefined, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    const range = allowZero ? 'a non-negative integer (0 disables)' : 'a positive integer, or undefined for never';
    throw new TypeError(`keepalive({ ${name} }) must be ${range}, got ${String(value)}`);
  }
  return value;
}

/** Validates options at factory time, so misuse fails at startup rather than per request. */
export function normalize(options: KeepaliveOptions): KeepalivePolicy {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`keepalive(options) expects an object, e.g. keepalive({ intervalMs: 15000 })`);
  }
  const comment = options.comment ?? 'ping';
  if (typeof comment !== 'string') throw new TypeError(`keepalive({ comment }) must be a string`);
  const ping = encodeEvent({ comment });
  return {
    intervalMs: duration('intervalMs', options.intervalMs, 15_000, true),
    comment,
    ping,
    pingChunk: chunkOf(ping.frame),
    idleTimeoutMs: duration('idleTimeoutMs', options.idleTimeoutMs, Infinity, false),
    maxDurationMs: duration('maxDurationMs', options.maxDurationMs, Infinity, false),
    retryMs: duration('retryMs', options.retryMs, 3000, true),
  };
}

/** Finest useful tick for a policy: an eighth of its shortest window, between 10 ms and 1 s. */
export function resolutionFor(policy: KeepalivePolicy): number {
  const windows = [policy.intervalMs || Infinity, policy.idleTimeoutMs, policy.maxDurationMs];
  return Math.min(1000, Math.max(10, Math.floor(Math.min(...windows) / 8)));
}
