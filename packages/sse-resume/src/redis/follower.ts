import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredEvent } from '../types.js';
import { deliver, type Entries } from './deliver.js';
import { RedisEventStoreError } from './errors.js';
import type { RedisSettings } from './options.js';
import { checkGaps, mayHaveGap, waitReady } from './recover.js';

/** One subscription, as the follower sees it. */
export interface Follow {
  readonly onEvent: (event: StoredEvent) => void;
  readonly onEnd: ((error: Error) => void) | undefined;
  /** Events up to this id are skipped: they were in the stream before the subscription. */
  floor: string | undefined;
}

export interface Followed {
  cursor: string;
  /** `entries-added` of the stream when it was at `cursor` (Redis ≥ 7), to detect gaps. */
  added: number | undefined;
  readonly follows: Set<Follow>;
}

type FollowerSettings = Pick<RedisSettings, 'blockMs' | 'onDisconnect' | 'report' | 'maxEvents' | 'ttlMs'>;

const READ_COUNT = 1000;

/**
 * The one blocking reader of a store: an `XREAD BLOCK` loop on a dedicated connection, over every
 * stream this process follows, however many subscribers each has. A subscription to a stream the
 * running read does not cover interrupts it with `CLIENT UNBLOCK` (sent on the command client).
 */
export class Follower {
  readonly streams = new Map<string, Followed>();
  readonly #conn: Redis;
  readonly #commands: Redis;
  readonly #settings: FollowerSettings;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #reading: Set<string> | undefined;
  #connId: number | undefined;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(conn: Redis, commands: Redis, settings: FollowerSettings) {
    this.#conn = conn;
    this.#commands = commands;
    this.#settings = settings;
    // A new connection has a new client id.
    conn.on('close', () => (this.#connId = undefined));
    conn.on('error', (error: unknown) => settings.report(error));
  }

  /** Follows `key` from its head (`lastId`, `added`) as read by the subscription. */
  add(key: string, head: { lastId: string; added: number | undefined }, follow: Follow): void {
    if (this.#stop.signal.aborted) return;
    let followed = this.streams.get(key);
    if (!followed) this.streams.set(key, (followed = { cursor: head.lastId, added: head.added, follows: new Set() }));
    followed.follows.add(follow);
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    this.#wake?.();
    if (this.#reading && !this.#reading.has(key)) void this.#interrupt(this.#reading);
  }

  remove(key: string, follow: Follow): void {
    const followed = this.streams.get(key);
    // The running read may still cover the key; its entries for it are then ignored.
    if (followed?.follows.delete(follow) && followed.follows.size === 0) this.streams.delete(key);
  }

  /** Idempotent: a second ioredis `disconnect()` would arm a 2 s timer on the closed socket. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    // A blocked connection does not see its end until the read returns, and ioredis then holds
    // a 2 s disconnect timer: unblock it first so close() releases everything at once.
    if (this.#reading && this.#connId !== undefined && this.#commands.status === 'ready') {
      await this.#commands.client('UNBLOCK', this.#connId).catch(() => {});
    }
    // Only a live socket emits 'end' once disconnected; a reconnecting client has none to close.
    const status = this.#conn.status;
    const live = status === 'ready' || status === 'connect' || status === 'connecting';
    const ended = live ? new Promise((resolve) => this.#conn.once('end', resolve)) : undefined;
    this.#conn.disconnect();
    await this.#running;
    await ended;
    this.streams.clear();
  }

  async #run(): Promise<void> {
    const { signal } = this.#stop;
    while (!signal.aborted) {
      if (this.streams.size === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      let reply: Entries | null;
      try {
        if (this.#conn.status === 'wait') await this.#conn.connect();
        // Reconnecting after a drop: subscriptions made meanwhile wait (commands would fail now).
        else if (this.#conn.status !== 'ready' && !(await waitReady(this.#conn, signal))) break;
        this.#connId ??= (await this.#conn.client('ID')) as number;
        if (this.streams.size === 0) continue;
        // Read the streams only now, after the awaits: a subscription added during them is covered.
        const keys = [...this.streams.keys()];
        const ids = keys.map((key) => this.streams.get(key)!.cursor);
        this.#reading = new Set(keys);
        const args = ['COUNT', READ_COUNT, 'BLOCK', this.#settings.blockMs, 'STREAMS', ...keys, ...ids];
        reply = (await this.#conn.call('XREAD', ...args)) as Entries | null;
      } catch (error) {
        this.#reading = undefined;
        if (!signal.aborted) await this.#recover(error);
        continue;
      }
      this.#reading = undefined;
      if (!reply) continue;
      await this.#endGaps(reply.filter(([key, entries]) => mayHaveGap(this.streams.get(key), entries.length, this.#settings, READ_COUNT)).map(([key]) => key));
      deliver(reply, this.streams, this.#settings.report);
    }
  }

  async #endGaps(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const suspects = new Map(keys.map((key) => [key, this.streams.get(key)!]));
    for (const [key, error] of await checkGaps(this.#conn, suspects)) {
      for (const follow of this.streams.get(key)?.follows ?? []) follow.onEnd?.(error);
      this.streams.delete(key);
    }
  }

  /** Wakes the running read so the next one covers newly followed streams. */
  async #interrupt(read: Set<string>): Promise<void> {
    // The UNBLOCK can reach Redis before the XREAD it targets; retry while that read still runs.
    for (let attempt = 0; attempt < 20 && this.#reading === read && !this.#stop.signal.aborted; attempt++) {
      try {
        if (this.#connId !== undefined && (await this.#commands.client('UNBLOCK', this.#connId)) === 1) return;
        await sleep(5 * (attempt + 1), undefined, { ref: false, signal: this.#stop.signal });
      } catch {
        return; // `blockMs` bounds the wait anyway
      }
    }
  }

  async #recover(cause: unknown): Promise<void> {
    const { signal } = this.#stop;
    this.#settings.report(cause);
    const connected = this.#conn.status === 'ready';
    if (connected || this.#settings.onDisconnect === 'end') {
      // A refused read on a live connection would only fail again; a dropped one ends by policy.
      const code = connected ? 'READ_FAILED' : 'CONNECTION_LOST';
      this.#endAll(new RedisEventStoreError(code, `Redis blocking read failed: ${String((cause as Error)?.message ?? cause)}`, { cause }));
      if (connected) await sleep(100, undefined, { ref: false, signal }).catch(() => {});
      return;
    }
    if (!(await waitReady(this.#conn, signal))) return;
    await this.#endGaps([...this.streams.keys()]);
  }

  #endAll(error: Error): void {
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const followed of streams) for (const follow of followed.follows) follow.onEnd?.(error);
  }
}
