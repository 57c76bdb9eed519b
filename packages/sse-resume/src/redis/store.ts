import type { Redis } from 'ioredis';
import type { SSEEvent } from '@sluice/sse-encoder';
import type { EventStore, ReadResult, StoredEvent, Unsubscribe } from '../types.js';
import { add, rangeAfter } from './commands.js';
import { toFields } from './entry.js';
import { RedisEventStoreError } from './errors.js';
import { Follower, type Follow } from './follower.js';
import { streamHead } from './recover.js';
import { settle, type RedisEventStoreOptions, type RedisSettings } from './options.js';

/**
 * An {@link EventStore} in Redis Streams, shared by every instance of an app: `XADD` appends (with
 * `MAXLEN`/`MINID` retention), `XRANGE` replays, and one `XREAD BLOCK` loop on a dedicated
 * connection (a `duplicate()` of the client) follows every stream this process subscribes to.
 * Ids are the stream entry ids. It uses, but never closes, the client it is given.
 */
export class RedisEventStore implements EventStore {
  readonly #client: Redis;
  readonly #settings: RedisSettings;
  readonly #follower: Follower;
  #closed = false;

  constructor(client: Redis, options: RedisEventStoreOptions = {}) {
    if (!client || typeof client.duplicate !== 'function' || typeof client.xadd !== 'function') {
      throw new TypeError('RedisEventStore(client) expects an ioredis client: new RedisEventStore(new Redis(url))');
    }
    if (client.options.keyPrefix) {
      throw new TypeError('RedisEventStore: use the store\'s `prefix` option, not the client\'s keyPrefix (XREAD keys would not be prefixed)');
    }
    this.#settings = settle(options);
    // Commands fail fast while it is offline: the loop then waits for 'ready' and decides per
    // onDisconnect, instead of ioredis silently replaying a blocking read after a reconnect.
    const conn = client.duplicate({
      lazyConnect: true,
      connectionName: this.#settings.connectionName,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    });
    this.#client = client;
    this.#follower = new Follower(conn, client, this.#settings);
  }

  /**
   * Appends with `XADD` (and trims). Rejects at once with `UNAVAILABLE` while the client is not
   * connected, so an append during an outage fails loudly rather than being queued; with
   * `TIMEOUT` when Redis does not answer in `timeoutMs` (the event may then have been stored).
   */
  async append(stream: string, event: SSEEvent): Promise<string> {
    checkStream(stream);
    if (event === null || typeof event !== 'object') {
      throw new TypeError(`append(stream, event) expects an event object such as { data }, got ${typeof event}`);
    }
    if (event.id !== undefined) throw new TypeError('append(): leave event.id unset; the store assigns ids');
    const fields = toFields(event);
    const key = this.#settings.prefix + stream;
    return this.#command('append', (client) => add(client, key, fields, this.#settings));
  }

  /** Replays with `XRANGE`; see {@link ReadResult} for the statuses. */
  async readAfter(stream: string, lastId: string | undefined): Promise<ReadResult> {
    checkStream(stream);
    const key = this.#settings.prefix + stream;
    return this.#command('readAfter', (client) => rangeAfter(client, key, lastId, this.#settings.ttlMs));
  }

  /**
   * Follows `stream` through the shared blocking read. Events already in the stream when this
   * settles are never delivered (the client gets them from `readAfter`). `onEnd` is called once if
   * the subscription ends on its own (see `onDisconnect`).
   */
  async subscribe(
    stream: string,
    _afterId: string | undefined,
    onEvent: (event: StoredEvent) => void,
    onEnd?: (error: Error) => void,
  ): Promise<Unsubscribe> {
    checkStream(stream);
    if (typeof onEvent !== 'function') throw new TypeError('subscribe(stream, afterId, onEvent): onEvent must be a function');
    const key = this.#settings.prefix + stream;
    const head = await this.#command('subscribe', (client) => streamHead(client, key));
    if (this.#closed) throw closedError();
    const follow: Follow = { onEvent, onEnd, floor: head.lastId };
    this.#follower.add(key, head, follow);
    return () => this.#follower.remove(key, follow);
  }

  /** Subscribers of `stream`, or of all streams when omitted (for metrics and leak checks). */
  subscriberCount(stream?: string): number {
    if (stream !== undefined) return this.#follower.streams.get(this.#settings.prefix + stream)?.follows.size ?? 0;
    let total = 0;
    for (const followed of this.#follower.streams.values()) total += followed.follows.size;
    return total;
  }

  /**
   * Stops the blocking read and disconnects its connection; later calls reject with `CLOSED`.
   * Subscriptions end silently. The client given to the constructor is left open.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#follower.close();
  }

  async #command<T>(what: string, run: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    // While the client reconnects ioredis would queue the command and send it later, maybe long
    // after the caller gave up; an outage must fail the publisher now. (A first connect may queue.)
    const { status } = this.#client;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      throw new RedisEventStoreError('UNAVAILABLE', `${what}: Redis client is ${status}; nothing was sent`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisEventStoreError('TIMEOUT', `${what}: no reply from Redis in ${this.#settings.timeoutMs} ms`)), this.#settings.timeoutMs);
      timer.unref();
    });
    const running = run(this.#client);
    // After a timeout, ioredis may still reject the command later (e.g. MaxRetriesPerRequestError).
    running.catch(() => {});
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function closedError(): RedisEventStoreError {
  return new RedisEventStoreError('CLOSED', 'RedisEventStore is closed');
}

function checkStream(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
}
