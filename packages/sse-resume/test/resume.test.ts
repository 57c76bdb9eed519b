import express from 'express';
import express4 from 'express4';
import { getEventListeners } from 'node:events';
import request from 'supertest';
import type { RequestHandler } from 'express';
import { sse } from '@sluice/sse-encoder';
import { keepalive, KeepaliveScheduler } from '@sluice/sse-keepalive';
import { MemoryEventStore, publish, resume, ResumeError, type ResumeOptions } from '@sluice/sse-resume';
import { connect, expectSequence, serve, waitUntil } from './helpers.js';

type Factory = typeof express;
const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

describe.each(frameworks)('resume() on %s', (_name, framework) => {
  async function setup(options: Partial<ResumeOptions> = {}, chain: RequestHandler[] = []) {
    const store = new MemoryEventStore({ maxEvents: 100 });
    const feed = resume({ store, stream: 'news', retryMs: 100, ...options });
    const app = framework();
    app.get('/feed', ...chain, feed);
    const server = await serve(app);
    return { store, feed, server, url: `${server.url}/feed` };
  }

  describe('replay', () => {
    it('replays what the client missed after Last-Event-ID, then follows live', async () => {
      const { store, server, url } = await setup();
      try {
        const ids: string[] = [];
        for (let i = 1; i <= 5; i++) ids.push(await publish(store, 'news', String(i)));
        const client = await connect(url, { 'Last-Event-ID': ids[1]! });
        await client.waitFor((e) => e.length === 3);
        await publish(store, 'news', '6');
        await client.waitFor((e) => e.length === 4);
        expectSequence(client.events, 3, 6);
        expect(client.events[0]!.id).toBe(ids[2]);
        expect(client.retries).toEqual([100]);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('reads the lastEventId query parameter (polyfills)', async () => {
      const { store, server, url } = await setup();
      try {
        const first = await publish(store, 'news', '1');
        await publish(store, 'news', '2');
        const client = await connect(`${url}?lastEventId=${encodeURIComponent(first)}`);
        await client.waitFor((e) => e.length === 1);
        expectSequence(client.events, 2, 2);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it.each([
      ['all', [1, 2]],
      ['none', []],
    ] as const)('history: %s decides what a first connection gets', async (history, expected) => {
      const { store, server, url } = await setup({ history });
      try {
        await publish(store, 'news', '1');
        await publish(store, 'news', '2');
        const client = await connect(url);
        await publish(store, 'news', '3');
        await client.waitFor((e) => e.some((x) => x.data === '3'));
        expect(client.events.map((e) => Number(e.data))).toEqual([...expected, 3]);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('picks the stream per request', async () => {
      const store = new MemoryEventStore();
      const app = framework();
      app.get('/rooms/:room', resume({ store, stream: (req) => `room:${String(req.params.room)}` }));
      const server = await serve(app);
      try {
        await publish(store, 'room:a', 'for a');
        await publish(store, 'room:b', 'for b');
        const client = await connect(`${server.url}/rooms/b`);
        await client.waitFor((e) => e.length === 1);
        expect(client.events[0]!.data).toBe('for b');
        client.destroy();
      } finally {
        server.close();
      }
    });
  });

  describe('onUnknownId', () => {
    it.each(['unknown', 'malformed', 'expired'] as const)(
      "'reset' (default): a %s id gets a reset event, then the oldest retained, then live",
      async (kind) => {
        const store = new MemoryEventStore({ maxEvents: 3 });
        const app = framework();
        app.get('/feed', resume({ store, stream: 'news', retryMs: 100 }));
        const server = await serve(app);
        try {
          const ids: string[] = [];
          for (let i = 1; i <= 6; i++) ids.push(await publish(store, 'news', String(i)));
          const lastId = { unknown: new MemoryEventStore().append('news', { data: 'x' }), malformed: 'garbage', expired: ids[0]! }[kind];
          const client = await connect(`${server.url}/feed`, { 'Last-Event-ID': lastId });
          await client.waitFor((e) => e.length === 4);
          await publish(store, 'news', '7');
          await client.waitFor((e) => e.length === 5);
          expect(client.events[0]).toMatchObject({ event: 'reset', data: JSON.stringify({ reason: kind, lastEventId: lastId }) });
          expectSequence(client.events.slice(1), 4, 7);
          client.destroy();
        } finally {
          server.close();
        }
      },
    );

    it("'reset-live': a reset event, then live events only", async () => {
      const { store, server, url } = await setup({ onUnknownId: 'reset-live' });
      try {
        await publish(store, 'news', '1');
        const client = await connect(url, { 'Last-Event-ID': 'garbage' });
        await client.waitFor((e) => e.length === 1);
        await publish(store, 'news', '2');
        await client.waitFor((e) => e.length === 2);
        expect(client.events[0]!.event).toBe('reset');
        expect(client.events[1]!.data).toBe('2');
        client.destroy();
      } finally {
        server.close();
      }
    });
  });

  describe('no gap, no duplicate while replaying (the race)', () => {
    it('events appended between subscribe and read, and while the replay is written, arrive once, in order', async () => {
      const inner = new MemoryEventStore({ maxEvents: 10_000 });
      let appended = 0;
      const append = () => inner.append('news', { data: String(++appended) });
      // A store that lets the app publish at every step where a network store would yield.
      const store = {
        append: inner.append.bind(inner),
        async subscribe(...args: Parameters<MemoryEventStore['subscribe']>) {
          const unsubscribe = inner.subscribe(...args);
          append(); // after subscribe, before read: must come from the held live events, once
          await Promise.resolve();
          append();
          return unsubscribe;
        },
        async readAfter(stream: string, lastId: string | undefined) {
          append();
          const result = inner.readAfter(stream, lastId); // includes the events appended above
          append(); // after read: only live delivery has it
          return result;
        },
      };
      const app = framework();
      app.get('/feed', resume({ store, stream: 'news', retryMs: 100 }));
      const server = await serve(app);
      try {
        for (let i = 0; i < 3000; i++) append();
        const first = inner.readAfter('news', undefined).events[9]!.id; // client saw 1..10
        // Keep publishing during the replay (3,000 events, several socket writes).
        let publishing = true;
        const publisher = (async () => {
          while (publishing) {
            append();
            await new Promise((r) => setImmediate(r));
          }
        })();
        const client = await connect(`${server.url}/feed`, { 'Last-Event-ID': first });
        await client.waitFor((e) => e.length >= 3000, 10_000);
        publishing = false;
        await publisher;
        const total = appended;
        await client.waitFor((e) => e.length === total - 10, 10_000);
        expectSequence(client.events, 11, total);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('holds when a store delivers live events late, or re-delivers from afterId', async () => {
      const inner = new MemoryEventStore({ maxEvents: 1000 });
      for (let i = 1; i <= 50; i++) inner.append('news', { data: String(i) });
      const all = inner.readAfter('news', undefined).events;
      // Delivers every event after afterId, including history (like Redis XREAD), each a few
      // turns late, so live delivery overlaps the replay in every possible way.
      const store = {
        append: inner.append.bind(inner),
        readAfter: inner.readAfter.bind(inner),
        subscribe(stream: string, afterId: string | undefined, onEvent: (e: (typeof all)[number]) => void) {
          let active = true;
          const start = afterId === undefined ? 0 : all.findIndex((e) => e.id === afterId) + 1;
          const queue = all.slice(start);
          const pump = async () => {
            for (const e of queue) {
              await new Promise((r) => setImmediate(r));
              if (active) onEvent(e);
            }
          };
          const unsubscribe = inner.subscribe(stream, afterId, (e) => queue.push(e));
          void pump();
          return () => {
            active = false;
            unsubscribe();
          };
        },
      };
      const app = framework();
      app.get('/feed', resume({ store, stream: 'news' }));
      const server = await serve(app);
      try {
        const client = await connect(`${server.url}/feed`, { 'Last-Event-ID': all[19]!.id });
        for (let i = 51; i <= 60; i++) {
          inner.append('news', { data: String(i) });
          await new Promise((r) => setImmediate(r));
        }
        await client.waitFor((e) => e.length >= 40);
        await new Promise((r) => setTimeout(r, 50));
        expectSequence(client.events, 21, 60);
        client.destroy();
      } finally {
        server.close();
      }
    });
  });

  describe('broadcast', () => {
    it('serializes an event once for all its subscribers', async () => {
      const { store, server, url } = await setup();
      try {
        const clients = await Promise.all(Array.from({ length: 20 }, () => connect(url)));
        await waitUntil(() => store.subscriberCount('news') === 20);
        let serialized = 0;
        await publish(store, 'news', { data: { toJSON: () => (serialized++, { n: 1 }) } });
        await Promise.all(clients.map((c) => c.waitFor((e) => e.length === 1)));
        expect(serialized).toBe(1);
        for (const c of clients) {
          expect(c.events[0]!.data).toBe('{"n":1}');
          c.destroy();
        }
      } finally {
        server.close();
      }
    });
  });

  describe('maxBufferedBytes', () => {
    it('cuts off a slow subscriber at the byte cap with a retry hint; fast ones get everything', async () => {
      const { store, feed, server, url } = await setup({ maxBufferedBytes: 256 * 1024, retryMs: 1234 });
      try {
        const slow = await connect(url);
        slow.res.pause(); // stops reading: the kernel buffers fill, then ours
        const fast = await Promise.all([connect(url), connect(url)]);
        await waitUntil(() => store.subscriberCount('news') === 3);
        const payload = 'x'.repeat(4000);
        for (let i = 1; i <= 3000; i++) {
          await publish(store, 'news', `${i} ${payload}`);
          if (i % 20 === 0) await new Promise((r) => setImmediate(r));
        }
        for (const client of fast) {
          await client.waitFor((e) => e.length === 3000, 20_000);
          expect(client.events.map((e) => Number(e.data.split(' ')[0]))).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
        }
        await waitUntil(() => store.subscriberCount('news') === 2);
        expect(feed.size).toBe(2);
        // The slow reader, once it reads again, finds a retry hint and the end of the stream.
        slow.res.resume();
        await slow.ended;
        expect(slow.retries.at(-1)).toBe(1234);
        expect(slow.events.length).toBeLessThan(3000);
        for (const client of fast) client.destroy();
      } finally {
        server.close();
      }
    }, 30_000);
  });

  describe('shutdown()', () => {
    it('ends every open stream with a retry hint; later requests get one and an immediate end', async () => {
      const { store, feed, server, url } = await setup({ retryMs: 777 });
      try {
        const clients = await Promise.all([connect(url), connect(url), connect(url)]);
        await waitUntil(() => feed.size === 3);
        feed.shutdown();
        await Promise.all(clients.map((c) => c.ended));
        for (const c of clients) expect(c.text()).toMatch(/retry: 777\n\n$/);
        expect(store.subscriberCount()).toBe(0);
        const late = await connect(url);
        await late.ended;
        expect(late.text()).toBe('retry: 777\n\n');
      } finally {
        server.close();
      }
    });

    it('follows an AbortSignal shared between mounts', async () => {
      const controller = new AbortController();
      const store = new MemoryEventStore();
      const app = framework();
      app.get('/a', resume({ store, stream: 'a', signal: controller.signal, retryMs: 5 }));
      app.get('/b', resume({ store, stream: 'b', signal: controller.signal, retryMs: 5 }));
      const server = await serve(app);
      try {
        const clients = await Promise.all([connect(`${server.url}/a`), connect(`${server.url}/b`)]);
        await waitUntil(() => store.subscriberCount() === 2);
        controller.abort();
        await Promise.all(clients.map((c) => c.ended));
        for (const c of clients) expect(c.retries).toEqual([5, 5]);
      } finally {
        server.close();
      }
    });
  });

  describe('errors', () => {
    it.each(['subscribe', 'readAfter'] as const)('a store whose %s rejects: error event, retry hint, onError; no crash', async (method) => {
      const inner = new MemoryEventStore();
      const store = {
        append: inner.append.bind(inner),
        readAfter: inner.readAfter.bind(inner),
        subscribe: inner.subscribe.bind(inner),
        [method]: () => Promise.reject(new Error('redis down')),
      };
      const errors: unknown[] = [];
      const app = framework();
      app.get('/feed', resume({ store, stream: 'news', retryMs: 50, onError: (e) => errors.push(e) }));
      const server = await serve(app);
      try {
        const client = await connect(`${server.url}/feed`);
        await client.ended;
        expect(client.events).toEqual([{ event: 'error', data: '{"code":"STORE_FAILED"}', id: undefined }]);
        expect(client.retries).toEqual([50, 50]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(ResumeError);
        expect(errors[0]).toMatchObject({ code: 'STORE_FAILED', status: 503, cause: { message: 'redis down' } });
        expect(inner.subscriberCount()).toBe(0);
      } finally {
        server.close();
      }
    });

    it('a throwing onError does not crash the process', async () => {
      const store = { ...new MemoryEventStore(), append: () => 'x', readAfter: () => Promise.reject(new Error('x')), subscribe: () => () => {} };
      const app = framework();
      app.get('/feed', resume({ store, stream: 'n', onError: () => { throw new Error('logger broke'); } }));
      const server = await serve(app);
      try {
        const client = await connect(`${server.url}/feed`);
        await client.ended;
        expect(client.events[0]!.event).toBe('error');
      } finally {
        server.close();
      }
    });

    it('a stream function that throws or returns no name is an HTTP 500 via next(err)', async () => {
      const store = new MemoryEventStore();
      const app = framework();
      app.get('/throws', resume({ store, stream: () => { throw new Error('no room'); } }));
      app.get('/empty', resume({ store, stream: () => '' }));
      app.use(((err, _req, res, _next) => {
        res.status(err.status ?? 500).json({ code: err.code ?? null, message: err.message });
      }) as express.ErrorRequestHandler);
      const thrown = await request(app).get('/throws');
      expect(thrown.status).toBe(500);
      expect(thrown.body.message).toBe('no room');
      const empty = await request(app).get('/empty');
      expect(empty.status).toBe(500);
      expect(empty.body.code).toBe('INVALID_STREAM');
    });
  });

  describe('client gone and cycles', () => {
    it('unsubscribes when the client goes away mid-stream', async () => {
      const { store, feed, server, url } = await setup();
      try {
        const client = await connect(url);
        await publish(store, 'news', '1');
        await client.waitFor((e) => e.length === 1);
        client.destroy();
        await waitUntil(() => store.subscriberCount() === 0 && feed.size === 0);
        await publish(store, 'news', '2'); // nobody to deliver to: must not throw
      } finally {
        server.close();
      }
    });

    it('answers HEAD with the headers only and follows nothing', async () => {
      const { store, feed, server, url } = await setup();
      try {
        const res = await request(url).head('');
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(feed.size).toBe(0);
        expect(store.subscriberCount()).toBe(0);
      } finally {
        server.close();
      }
    });

    it('leaves no subscription, timer or listener behind after 1,000 connect/disconnect cycles', async () => {
      const scheduler = new KeepaliveScheduler();
      const deploy = new AbortController();
      const { store, feed, server, url } = await setup({ signal: deploy.signal }, [keepalive({ intervalMs: 1000, scheduler })]);
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      try {
        for (let i = 0; i < 5; i++) await publish(store, 'news', String(i));
        for (let batch = 0; batch < 20; batch++) {
          const clients = await Promise.all(Array.from({ length: 50 }, () => connect(url)));
          await Promise.all(clients.map((c) => c.waitFor((e) => e.length >= 5)));
          void publish(store, 'news', 'live');
          for (const c of clients) c.destroy();
          await Promise.all(clients.map((c) => c.ended));
        }
        await waitUntil(() => store.subscriberCount() === 0 && feed.size === 0);
        // Node's own socket timers may take a moment to go; a leaked one would stay.
        await waitUntil(() => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= timersBefore);
        expect(scheduler.size).toBe(0);
        expect(scheduler.running).toBe(false);
        // One listener per resume() mount on the shared shutdown signal, none per request.
        expect(getEventListeners(deploy.signal, 'abort')).toHaveLength(1);
        const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
        await waitUntil(() => sockets() <= 1); // only the listening server is left
      } finally {
        server.close();
      }
    }, 30_000);
  });

  describe('composition', () => {
    it('runs the handlers that follow it in the same route (keepalive() after resume())', async () => {
      const store = new MemoryEventStore();
      const app = framework();
      app.get('/feed', resume({ store, stream: 'news', retryMs: 100 }), keepalive({ intervalMs: 40 }));
      app.get('/alone', resume({ store, stream: 'news', retryMs: 100 }));
      // Neither may fall through into a catch-all 404 (it would throw "headers already sent").
      app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
      const server = await serve(app);
      try {
        await publish(store, 'news', '1');
        const client = await connect(`${server.url}/feed`);
        await client.waitFor((e) => e.length === 1);
        await waitUntil(() => (client.text().match(/: ping/g)?.length ?? 0) >= 2);
        await publish(store, 'news', '2');
        await client.waitFor((e) => e.length === 2);
        expectSequence(client.events, 1, 2);
        client.destroy();
        const alone = await connect(`${server.url}/alone`);
        await alone.waitFor((e) => e.length === 2);
        await publish(store, 'news', '3');
        await alone.waitFor((e) => e.length === 3);
        alone.destroy();
      } finally {
        server.close();
      }
    });

    it('works after sse() and keepalive(): pings only while the feed is idle', async () => {
      const { store, server, url } = await setup({}, [sse(), keepalive({ intervalMs: 200 })]);
      try {
        const client = await connect(url);
        await publish(store, 'news', '1');
        await client.waitFor((e) => e.length === 1);
        await waitUntil(() => client.text().includes(': ping'));
        expect(client.text().indexOf(': ping')).toBeGreaterThan(client.text().indexOf('data: 1'));
        client.destroy();
      } finally {
        server.close();
      }
    });
  });
});

describe('resume() options', () => {
  const store = new MemoryEventStore();
  it.each<[string, unknown]>([
    ['no store', { stream: 's' }],
    ['a store without subscribe', { store: { append() {}, readAfter() {} }, stream: 's' }],
    ['no stream', { store }],
    ['an empty stream name', { store, stream: '' }],
    ['a bad onUnknownId', { store, stream: 's', onUnknownId: 'ignore' }],
    ['a bad history', { store, stream: 's', history: 'some' }],
    ['a negative retryMs', { store, stream: 's', retryMs: -1 }],
    ['a zero maxBufferedBytes', { store, stream: 's', maxBufferedBytes: 0 }],
    ['a non-function onError', { store, stream: 's', onError: 'log' }],
  ])('throws a TypeError at factory time for %s', (_label, options) => {
    expect(() => resume(options as ResumeOptions)).toThrow(TypeError);
  });

  it('returns a named handler', () => {
    expect(resume({ store, stream: 's' }).name).toBe('resume');
  });
});
