import express from 'express';
import express4 from 'express4';
import { publish, resume } from '@sluice/sse-resume';
import { RedisEventStore } from '@sluice/sse-resume/redis';
import { connect, expectSequence, serve, waitUntil, type Client, type Served } from './helpers.js';
import { deletePrefix, describeRedis, newClient, randomPrefix } from './redis-env.js';

type Factory = typeof express;
const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

/** One app instance: its own Redis client and store, sharing the Redis and the prefix. */
async function instance(framework: Factory, prefix: string) {
  const client = newClient();
  const store = new RedisEventStore(client, { prefix, connectionName: `${prefix.replaceAll(':', '-')}${Math.random().toString(36).slice(2, 6)}` });
  const app = framework();
  app.get('/feed', resume({ store, stream: 'news', retryMs: 100 }));
  app.post('/news/:n', async (req, res, next) => {
    try {
      res.json({ id: await publish(store, 'news', String(req.params.n)) });
    } catch (error) {
      next(error);
    }
  });
  const server = await serve(app);
  return { client, store, server };
}

async function post(server: Served, n: number): Promise<string> {
  const res = await fetch(`${server.url}/news/${n}`, { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describeRedis('two instances sharing one Redis', () => {
  describe.each(frameworks)('A on %s', (_name, framework) => {
    const other = framework === express ? (express4 as unknown as Factory) : express;
    let prefix: string;
    let a: Awaited<ReturnType<typeof instance>>;
    let b: Awaited<ReturnType<typeof instance>>;
    const clients: Client[] = [];

    beforeEach(async () => {
      prefix = randomPrefix();
      a = await instance(framework, prefix);
      b = await instance(other, prefix);
    });
    afterEach(async () => {
      for (const client of clients.splice(0)) client.destroy();
      for (const { server, store } of [a, b]) {
        server.close();
        await store.close();
      }
      await deletePrefix(a.client, prefix);
      await Promise.all([a.client.quit(), b.client.quit()]);
    });

    it('publish through A reaches a client on B live; reconnecting to the other instance resumes exactly', async () => {
      const first = await connect(`${b.server.url}/feed`);
      clients.push(first);
      await waitSubscribed(b.store);
      for (let n = 1; n <= 3; n++) await post(a.server, n);
      await first.waitFor((e) => e.length === 3);
      expectSequence(first.events, 1, 3);
      first.destroy();

      // Missed while disconnected, then resumed on A.
      for (let n = 4; n <= 6; n++) await post(a.server, n);
      const second = await connect(`${a.server.url}/feed`, { 'Last-Event-ID': first.events.at(-1)!.id! });
      clients.push(second);
      await second.waitFor((e) => e.length === 3);
      await post(b.server, 7);
      await second.waitFor((e) => e.length === 4);
      expectSequence(second.events, 4, 7);
      second.destroy();

      // And back to B, publishing through B this time.
      await post(b.server, 8);
      const third = await connect(`${b.server.url}/feed`, { 'Last-Event-ID': second.events.at(-1)!.id! });
      clients.push(third);
      await third.waitFor((e) => e.length === 1);
      await post(a.server, 9);
      await third.waitFor((e) => e.length === 2);
      expectSequence(third.events, 8, 9);
      // Ids are the Redis entry ids, the same on every instance.
      expect(third.events[0]!.id).toMatch(/^\d+-\d+$/);
    });

    it('many clients on both instances get every event once, in order', async () => {
      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(`${(i % 2 ? a : b).server.url}/feed`)));
      clients.push(...all);
      await waitSubscribed(a.store, 5);
      await waitSubscribed(b.store, 5);
      await Promise.all(Array.from({ length: 30 }, (_, n) => post(n % 2 ? a.server : b.server, n)));
      for (const client of all) {
        await client.waitFor((e) => e.length === 30);
        // Concurrent posts: order is Redis's (id order), the same for everyone.
        expect(client.events.map((e) => e.id)).toEqual(all[0]!.events.map((e) => e.id));
        expect(new Set(client.events.map((e) => e.data)).size).toBe(30);
      }
    });
  });
});

async function waitSubscribed(store: RedisEventStore, count = 1): Promise<void> {
  await waitUntil(() => store.subscriberCount('news') >= count);
  expect(store.subscriberCount('news')).toBe(count);
}
