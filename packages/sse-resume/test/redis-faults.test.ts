import express from 'express';
import type { Redis } from 'ioredis';
import { publish, resume } from '@sluice/sse-resume';
import { RedisEventStore, type RedisEventStoreOptions } from '@sluice/sse-resume/redis';
import { connect, expectSequence, serve, waitUntil, type Client, type Served } from './helpers.js';
import { connectionsNamed, deletePrefix, describeRedis, newClient, randomPrefix, REDIS_URL, REQUIRED } from './redis-env.js';
import { PrivateRedis, redisServerBinary } from './redis-server.js';

const binary = redisServerBinary();
if (!binary && !REQUIRED) console.warn('\n!!! redis-server binary not found: SKIPPING the Redis restart tests (CI fails instead).\n');
const withServer = binary || REQUIRED ? it : it.skip;

interface Setup {
  client: Redis;
  store: RedisEventStore;
  server: Served;
  name: string;
  errors: unknown[];
}

describeRedis('RedisEventStore faults', () => {
  const opened: Setup[] = [];
  const clients: Client[] = [];
  let prefix: string;
  let admin: Redis; // kills other connections: a connection killing itself never gets its reply

  async function setup(options: RedisEventStoreOptions = {}, url = REDIS_URL): Promise<Setup> {
    const name = `sluice-fault-${Math.random().toString(36).slice(2, 10)}`;
    const client = newClient(url, `${name}-cmd`);
    const errors: unknown[] = [];
    const store = new RedisEventStore(client, { prefix, connectionName: name, onError: (e) => errors.push(e), ...options });
    const app = express();
    app.get('/feed', resume({ store, stream: 'news', retryMs: 50 }));
    const setup = { client, store, server: await serve(app), name, errors };
    opened.push(setup);
    return setup;
  }
  async function follow(url: string, lastId?: string): Promise<Client> {
    const client = await connect(`${url}/feed`, lastId ? { 'Last-Event-ID': lastId } : {});
    clients.push(client);
    return client;
  }
  async function kill(name: string): Promise<void> {
    const [target] = await connectionsNamed(admin, name);
    expect(target).toBeDefined();
    await admin.client('KILL', 'ID', target!.id!);
  }

  async function closeAll(): Promise<void> {
    for (const client of clients.splice(0)) client.destroy();
    for (const { server, store, client } of opened.splice(0)) {
      server.close();
      await store.close();
      if (client.status === 'ready') await deletePrefix(client, prefix);
      client.disconnect();
    }
  }

  beforeAll(() => (admin = newClient()));
  afterAll(() => admin.quit());
  beforeEach(() => (prefix = randomPrefix()));
  afterEach(closeAll);

  it("hold (default): the blocking connection killed mid-feed; live clients miss nothing and see no duplicate", async () => {
    const { store, server, client, name, errors } = await setup();
    const live = await follow(server.url);
    await waitUntil(() => store.subscriberCount('news') === 1);
    for (let n = 1; n <= 3; n++) await publish(store, 'news', String(n));
    await live.waitFor((e) => e.length === 3);
    await kill(name);
    // Published while the reader is down or reconnecting.
    for (let n = 4; n <= 8; n++) await publish(store, 'news', String(n));
    await live.waitFor((e) => e.length === 8);
    await publish(store, 'news', '9');
    await live.waitFor((e) => e.length === 9);
    expectSequence(live.events, 1, 9);
    expect(errors.length).toBeGreaterThan(0); // the drop was reported, not hidden
    expect(await connectionsNamed(client, name)).toHaveLength(1); // reconnected, one connection
  });

  it("end: the blocking connection killed; clients are told, and resuming with Last-Event-ID gets exactly what they missed", async () => {
    const { store, server, client, name } = await setup({ onDisconnect: 'end' });
    const first = await follow(server.url);
    await waitUntil(() => store.subscriberCount('news') === 1);
    for (let n = 1; n <= 3; n++) await publish(store, 'news', String(n));
    await first.waitFor((e) => e.length === 3);
    await kill(name);
    await first.ended;
    expect(first.events.at(-1)).toMatchObject({ event: 'error', data: '{"code":"STORE_FAILED"}' });
    expect(first.retries).toContain(50);
    for (let n = 4; n <= 6; n++) await publish(store, 'news', String(n));
    const lastId = first.events.filter((e) => e.event === undefined).at(-1)!.id!;
    const second = await follow(server.url, lastId);
    await second.waitFor((e) => e.length === 3);
    await publish(store, 'news', '7');
    await second.waitFor((e) => e.length === 4);
    expectSequence(second.events, 4, 7);
  });

  it('an append while the command connection is down rejects at once with UNAVAILABLE, not queued', async () => {
    const { store, client, name } = await setup();
    await publish(store, 'news', 'before');
    await kill(`${name}-cmd`);
    await waitUntil(() => client.status !== 'ready');
    await expect(store.append('news', { data: 'lost?' })).rejects.toMatchObject({ name: 'RedisEventStoreError', code: 'UNAVAILABLE' });
    await waitUntil(() => client.status === 'ready');
    await publish(store, 'news', 'after');
    // Nothing was queued and replayed behind the publisher's back.
    expect((await store.readAfter('news', undefined)).events.map((e) => e.event.data)).toEqual(['before', 'after']);
  });

  describe('a private redis-server', () => {
    let redis: PrivateRedis | undefined;
    beforeEach(async () => {
      if (!binary) throw new Error('redis-server binary missing and SLUICE_REQUIRE_SERVICES=1');
      redis = await PrivateRedis.start(binary);
    });
    afterEach(async () => {
      redis?.pause(false);
      await closeAll(); // while the server still answers
      await redis?.kill();
    });

    withServer('restarted (losing its data): appends fail loudly, live clients are told, resuming clients get a reset, then live', async () => {
      const { store, server, client } = await setup({}, redis!.url);
      const first = await follow(server.url);
      await waitUntil(() => store.subscriberCount('news') === 1);
      for (let n = 1; n <= 3; n++) await publish(store, 'news', String(n));
      await first.waitFor((e) => e.length === 3);
      await redis!.kill();
      await waitUntil(() => client.status !== 'ready');
      await expect(publish(store, 'news', 'during')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await redis!.restart();
      // The store reconnects, sees the stream is gone (no persistence) and ends the stream.
      await first.ended;
      expect(first.events.at(-1)).toMatchObject({ event: 'error' });
      await waitUntil(() => client.status === 'ready');
      const second = await follow(server.url, first.events[2]!.id!);
      await second.waitFor((e) => e.length === 1);
      expect(second.events[0]).toMatchObject({ event: 'reset' });
      expect(JSON.parse(second.events[0]!.data)).toMatchObject({ reason: 'expired' });
      await waitUntil(() => store.subscriberCount('news') === 1);
      await publish(store, 'news', '4');
      await second.waitFor((e) => e.length === 2);
      expect(second.events[1]!.data).toBe('4');
    }, 20_000);

    withServer('frozen (SIGSTOP): an append rejects with TIMEOUT after timeoutMs', async () => {
      const { store } = await setup({ timeoutMs: 300 }, redis!.url);
      await publish(store, 'news', 'ok');
      redis!.pause(true);
      const started = performance.now();
      await expect(publish(store, 'news', 'stuck')).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      redis!.pause(false);
    });
  });
});
