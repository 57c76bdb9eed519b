/** Options for {@link RedisEventStore}. */
export interface RedisEventStoreOptions {
  /**
   * Prefix of every key the store writes: stream `news` lives at `<prefix>news`. Use one per app
   * or deployment sharing a Redis.
   * @defaultValue `'sluice:sse:'`
   */
  prefix?: string;
  /**
   * Events kept per stream (`XADD … MAXLEN`). Trimmed approximately unless `exactTrim` is set,
   * so a few more may be kept.
   * @defaultValue `1000`
   */
  maxEvents?: number;
  /**
   * Trim to exactly `maxEvents` (`MAXLEN =`) instead of approximately (`MAXLEN ~`, cheaper:
   * Redis trims whole nodes).
   * @defaultValue `false`
   */
  exactTrim?: boolean;
  /**
   * Milliseconds an event is kept (`XTRIM … MINID` on every append and read); an idle stream's key
   * also expires after this long. Ages come from the ids, i.e. Redis's clock.
   * @defaultValue `undefined` (kept until pushed out by `maxEvents`)
   */
  ttlMs?: number;
  /**
   * What live subscribers get when the blocking connection drops: `'hold'` keeps them open and,
   * once reconnected, delivers what they missed from the last id delivered (ending only those
   * whose missed events are gone, with a `GAP` error); `'end'` ends them all at once with
   * `CONNECTION_LOST`, so their clients reconnect, possibly to a healthier instance.
   * @defaultValue `'hold'`
   */
  onDisconnect?: 'hold' | 'end';
  /**
   * Milliseconds `append()`, `readAfter()` and `subscribe()` wait for Redis before rejecting with
   * `TIMEOUT` (ioredis would otherwise hold a command across reconnects).
   * @defaultValue `5000`
   */
  timeoutMs?: number;
  /**
   * `BLOCK` of the blocking read. New subscriptions interrupt it with `CLIENT UNBLOCK`, so this only
   * bounds how long one could wait if that fails (e.g. an ACL forbids it).
   * @defaultValue `2000`
   */
  blockMs?: number;
  /**
   * Connection name (`CLIENT SETNAME`) of the dedicated blocking connection, to find it in
   * `CLIENT LIST`.
   * @defaultValue `'sluice-sse-follower'`
   */
  connectionName?: string;
  /**
   * Called with errors the store cannot hand to a caller: connection errors of the blocking
   * connection, a throwing subscriber. Must not throw.
   * @defaultValue `undefined` (ignored; subscribers are still ended or held per `onDisconnect`)
   */
  onError?: (error: unknown) => void;
}

export interface RedisSettings {
  readonly prefix: string;
  readonly maxEvents: number;
  readonly exactTrim: boolean;
  readonly ttlMs: number | undefined;
  readonly onDisconnect: 'hold' | 'end';
  readonly timeoutMs: number;
  readonly blockMs: number;
  readonly connectionName: string;
  readonly report: (error: unknown) => void;
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`RedisEventStore({ ${name} }) must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

export function settle(options: RedisEventStoreOptions): RedisSettings {
  const onDisconnect = options.onDisconnect ?? 'hold';
  if (onDisconnect !== 'hold' && onDisconnect !== 'end') {
    throw new TypeError(`RedisEventStore({ onDisconnect }) must be 'hold' or 'end', got ${String(onDisconnect)}`);
  }
  const prefix = options.prefix ?? 'sluice:sse:';
  if (typeof prefix !== 'string') throw new TypeError('RedisEventStore({ prefix }) must be a string');
  const connectionName = options.connectionName ?? 'sluice-sse-follower';
  if (typeof connectionName !== 'string' || !/^[!-~]+$/.test(connectionName)) {
    throw new TypeError('RedisEventStore({ connectionName }) must be printable ASCII without spaces');
  }
  const { onError } = options;
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('RedisEventStore({ onError }) must be a function');
  return {
    prefix,
    maxEvents: integer('maxEvents', options.maxEvents, 1000, 1),
    exactTrim: options.exactTrim ?? false,
    ttlMs: options.ttlMs === undefined ? undefined : integer('ttlMs', options.ttlMs, 0, 1),
    onDisconnect,
    timeoutMs: integer('timeoutMs', options.timeoutMs, 5000, 1),
    blockMs: integer('blockMs', options.blockMs, 2000, 1),
    connectionName,
    report: (error) => {
      try {
        onError?.(error);
      } catch {
        // onError is documented not to throw; a throwing logger must not stop the reader.
      }
    },
  };
}
