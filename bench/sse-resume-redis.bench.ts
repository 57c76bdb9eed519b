// @sluice/sse-resume/redis: RedisEventStore against MemoryEventStore behind the same resume()
// route: replay of 10,000 missed events to a reconnecting client, live publish→client latency,
// and append throughput. Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); skipped
// (with a note) when there is none. Keys use a random prefix and are deleted afterwards.
import http from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { createParser } from 'eventsource-parser';
import { MemoryEventStore, resume, type EventStore } from '@sluice/sse-resume';
import { RedisEventStore } from '@sluice/sse-resume/redis';
import { listen, median, report } from './lib.js';

const MISSED = 10_000;
const LIVE = 500;
const APPENDS = 5_000;
const PAYLOAD = JSON.stringify({ symbol: 'SLCE', price: 101.25, volume: 1200, note: 'x'.repeat(40) });
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Opens the feed with `lastId` and calls `onEvent` per event until `stop()`. */
function follow(feed: string, lastId: string | undefined, onEvent: (data: string) => void) {
  const req = http.get(feed, { agent: false, headers: lastId ? { 'Last-Event-ID': lastId } : {} }, (res) => {
    const parser = createParser({ onEvent: (e) => onEvent(e.data) });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => parser.feed(chunk));
    res.on('error', () => {});
  });
  req.on('error', () => {});
  return { stop: () => req.destroy() };
}

async function measure(store: EventStore) {
  const app = express();
  app.get('/feed', resume({ store, stream: 'bench', maxBufferedBytes: 64 << 20 }));
  app.get('/live', resume({ store, stream: 'live', history: 'none' }));
  const server = await listen(app);
  const feed = `${server.url}/feed`;
  const first = await store.append('bench', { data: PAYLOAD });
  for (let i = 1; i < MISSED; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, MISSED - i) }, () => store.append('bench', { data: PAYLOAD })));
  }
  const replayMs = await median(5, () => {
    const t0 = performance.now();
    let seen = 0;
    return new Promise<number>((resolve) => {
      const client = follow(feed, first, () => {
        if (++seen === MISSED - 1) {
          client.stop();
          resolve(performance.now() - t0);
        }
      });
    });
  });

  // Live: one event at a time, timed from append() to the client's parser.
  const latencies: number[] = [];
  let waiting: { data: string; resolve: () => void } | undefined;
  const client = follow(`${server.url}/live`, undefined, (data) => data === waiting?.data && waiting.resolve());
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < LIVE; i++) {
    const data = `${i} ${PAYLOAD}`;
    const got = new Promise<void>((resolve) => (waiting = { data, resolve }));
    const t0 = performance.now();
    await store.append('live', { data });
    await got;
    latencies.push(performance.now() - t0);
  }
  client.stop();
  latencies.sort((a, b) => a - b);

  const t0 = performance.now();
  for (let i = 0; i < APPENDS; i += 100) await Promise.all(Array.from({ length: 100 }, () => store.append('appends', { data: PAYLOAD })));
  const appendsPerSec = APPENDS / ((performance.now() - t0) / 1000);
  await server.close();
  return { replayMs, p50: latencies[Math.floor(LIVE * 0.5)]!, p99: latencies[Math.floor(LIVE * 0.99)]!, appendsPerSec };
}

const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
client.on('error', () => {});
const reachable = await client.connect().then(() => true, () => false);
if (!reachable) {
  report('@sluice/sse-resume/redis', [], [`skipped: no Redis at ${url}`]);
} else {
  const prefix = `sluice-bench:${Date.now().toString(36)}:`;
  const redisStore = new RedisEventStore(client, { prefix, maxEvents: MISSED + LIVE + 100 });
  try {
    const redis = await measure(redisStore);
    const memory = await measure(new MemoryEventStore({ maxEvents: MISSED + LIVE + 100 }));
    report(
      '@sluice/sse-resume/redis',
      [
        {
          metric: `replay ${MISSED.toLocaleString('en-US')} missed events to a reconnecting client, ms`,
          values: { 'RedisEventStore': redis.replayMs, MemoryEventStore: memory.replayMs },
          target: '≤300 ms',
          ok: redis.replayMs <= 300,
          lowerIsBetter: true,
        },
        { metric: 'live publish→client latency p50, ms', values: { 'RedisEventStore': redis.p50, MemoryEventStore: memory.p50 }, lowerIsBetter: true },
        { metric: 'live publish→client latency p99, ms', values: { 'RedisEventStore': redis.p99, MemoryEventStore: memory.p99 }, lowerIsBetter: true },
        { metric: 'appends/s (100 in flight)', values: { 'RedisEventStore': redis.appendsPerSec, MemoryEventStore: memory.appendsPerSec } },
      ],
      [
        'Redis on loopback, one client per store; the replay is one MULTI (XRANGE) and resume() writing the frames.',
        'Latency is append() → the event parsed by an http.get client, one event in flight at a time.',
      ],
    );
  } finally {
    await redisStore.close();
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    await client.quit();
  }
}
