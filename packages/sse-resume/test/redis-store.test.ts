import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisEventStore, RedisEventStoreError, type RedisEventStoreOptions } from '@sluice/sse-resume/redis';
import { waitUntil } from './helpers.js';
import { connectionsNamed, deletePrefix, describeRedis, newClient, randomPrefix } from './redis-env.js';

describeRedis('RedisEventStore', () => {
  let client: Redis;
  let prefix: string;
  let name: string;
  const stores: RedisEventStore[] = [];
  const make = (options: RedisEventStoreOptions = {}) => {
    const store = new RedisEventStore(client, { prefix, connectionName: name, ...options });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    client = newClient();
    prefix = randomPrefix();
    name = `sluice-test-${prefix.split(':')[1]}`;
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await deletePrefix(client, prefix);
    await client.quit();
  });

  describe('options', () => {
    it('rejects misuse when constructed, with a fix in the message', () => {
      expect(() => new RedisEventStore({} as Redis)).toThrow(/ioredis client/);
      expect(() => make({ maxEvents: 0 })).toThrow(TypeError);
      expect(() => make({ ttlMs: 1.5 })).toThrow(TypeError);
      expect(() => make({ onDisconnect: 'retry' as 'hold' })).toThrow(/'hold' or 'end'/);
      expect(() => make({ connectionName: 'has space' })).toThrow(TypeError);
      const prefixed = client.duplicate({ keyPrefix: 'app:', lazyConnect: true });
      expect(() => new RedisEventStore(prefixed)).toThrow(/prefix/);
      prefixed.disconnect();
    });

    it('keeps keys under prefix, as streams', async () => {
      const store = make();
      await store.append('news', { data: 'x' });
      expect(await client.type(`${prefix}news`)).toBe('stream');
    });
  });

  describe('retention', () => {
    it('maxEvents trims approximately by default (whole nodes), never below maxEvents', async () => {
      const store = make({ maxEvents: 10 });
      for (let i = 0; i < 300; i++) await store.append('s', { data: String(i) });
      const length = await client.xlen(`${prefix}s`);
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThan(300);
    });

    it('reads an evicted id as expired even when its successor is retained (Redis keeps no trimmed ids)', async () => {
      const store = make({ maxEvents: 2, exactTrim: true });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await store.append('s', { data: String(i) }));
      const result = await store.readAfter('s', ids[0]);
      expect(result.status).toBe('expired');
      // Still everything the client missed: it gets a reset plus these.
      expect(result.events.map((e) => e.event.data)).toEqual(['1', '2']);
    });

    it('ttlMs drops events by age (MINID) and lets an idle stream key expire', async () => {
      const store = make({ ttlMs: 300 });
      const first = await store.append('s', { data: 'old' });
      expect(await client.pttl(`${prefix}s`)).toBeGreaterThan(0);
      await sleep(450);
      const second = await store.append('s', { data: 'new' });
      expect((await store.readAfter('s', undefined)).events.map((e) => e.id)).toEqual([second]);
      expect(await store.readAfter('s', first)).toMatchObject({ status: 'expired', events: [{ id: second }] });
      await sleep(450);
      expect(await client.exists(`${prefix}s`)).toBe(0);
      expect(await store.readAfter('s', second)).toEqual({ status: 'expired', events: [] });
    });
  });

  describe('subscribe()', () => {
    it('opens no connection until the first subscription, then exactly one for any number of subscribers', async () => {
      const store = make();
      await store.append('a', { data: 'x' });
      expect(await connectionsNamed(client, name)).toHaveLength(0);
      const got = new Map<string, number>();
      const unsubscribes = [];
      for (let i = 0; i < 60; i++) {
        const stream = ['a', 'b', 'c'][i % 3]!;
        unsubscribes.push(await store.subscribe(stream, undefined, () => got.set(stream + (i % 20), (got.get(stream + (i % 20)) ?? 0) + 1)));
      }
      expect(store.subscriberCount()).toBe(60);
      expect(store.subscriberCount('a')).toBe(20);
      const before = await xreadCalls(client);
      for (let i = 0; i < 20; i++) await store.append(['a', 'b', 'c'][i % 3]!, { data: String(i) });
      await waitUntil(() => [...got.values()].reduce((a, b) => a + b, 0) === 20 * 20);
      const reads = (await xreadCalls(client)) - before;
      const connections = await connectionsNamed(client, name);
      expect(connections).toHaveLength(1);
      expect(connections[0]!.cmd).toMatch(/^(xread|client\|id)$/);
      // One upstream read per batch of events, not one per subscriber (that would be ≥ 400).
      expect(reads).toBeLessThan(100);
      for (const unsubscribe of unsubscribes) unsubscribe();
      expect(store.subscriberCount()).toBe(0);
    });

    it('never delivers events that were in the stream before subscribe() settled', async () => {
      const store = make();
      const other = make({ connectionName: `${name}-2` });
      const seen: string[] = [];
      await other.subscribe('s', undefined, () => {}); // keeps a shared read running and busy
      for (let i = 0; i < 50; i++) await store.append('s', { data: String(i) });
      await store.subscribe('s', 'whatever', (e) => seen.push(e.event.data as string));
      await store.append('s', { data: 'live' });
      await waitUntil(() => seen.length > 0);
      await sleep(50);
      expect(seen).toEqual(['live']);
    });

    it('reports a throwing subscriber to onError and still serves the others', async () => {
      const errors: unknown[] = [];
      const store = make({ onError: (error) => errors.push(error) });
      const seen: string[] = [];
      await store.subscribe('s', undefined, () => {
        throw new Error('boom');
      });
      await store.subscribe('s', undefined, (e) => seen.push(e.id));
      const id = await store.append('s', { data: 'x' });
      await waitUntil(() => seen.length === 1);
      expect(seen).toEqual([id]);
      expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
    });
  });

  describe('close()', () => {
    it('releases its connection and timers, rejects later calls with CLOSED, and leaves the client open', async () => {
      await client.ping();
      const baseline = resources();
      const store = new RedisEventStore(client, { prefix, connectionName: name, blockMs: 50 });
      const seen: string[] = [];
      await store.subscribe('s', undefined, (e) => seen.push(e.id));
      await store.append('s', { data: 'x' });
      await waitUntil(() => seen.length === 1);
      await store.close();
      await store.close();
      // Polled with setImmediate (a timer would count itself); ioredis alone would hold a
      // blocked socket's disconnect timer for 2 s.
      const until = performance.now() + 1000;
      while (resources() !== baseline && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
      expect(resources()).toBe(baseline);
      expect(await connectionsNamed(client, name)).toHaveLength(0);
      await expect(store.append('s', { data: 'y' })).rejects.toMatchObject({ name: 'RedisEventStoreError', code: 'CLOSED' });
      await expect(store.subscribe('s', undefined, () => {})).rejects.toBeInstanceOf(RedisEventStoreError);
      expect(await client.ping()).toBe('PONG');
    });
  });
});

async function xreadCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_xread:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** Sockets and timers alive in this process, as one comparable string. */
function resources(): string {
  const kinds = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'Timeout');
  return kinds.sort().join(',');
}
