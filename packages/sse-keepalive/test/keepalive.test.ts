import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import compression from 'compression';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import type { RequestHandler } from 'express';
import { sse } from '@sluice/sse-encoder';
import { keepalive, KeepaliveScheduler, type KeepaliveOptions } from '@sluice/sse-keepalive';
import { count, rawGet, realSleep, serve, type RawClient } from './helpers.js';

type Factory = typeof express;
const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

describe.each(frameworks)('keepalive() on %s', (_name, framework) => {
  describe('intervalMs (fake timers)', () => {
    beforeEach(() => {
      // Only the scheduler's clock is faked; I/O scheduling (setImmediate, nextTick) stays real.
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
    });
    afterEach(() => jest.useRealTimers());

    it('pings only after intervalMs of silence, and any event resets the clock', async () => {
      const scheduler = new KeepaliveScheduler({ resolutionMs: 100 });
      const app = createApp(framework, [keepalive({ intervalMs: 1000, scheduler })], (_req, res) => {
        app.locals.res = res;
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await settle();
        expect(scheduler.size).toBe(1);
        jest.advanceTimersByTime(900);
        await settle();
        expect(client.text()).not.toContain(': ping');

        // An event at t=900 resets the clock: no ping at t=1000..1800.
        void app.locals.res.sse.send('hello');
        jest.advanceTimersByTime(950);
        await client.waitFor((t) => t.length >= 'data: hello\n\n'.length);
        await settle();
        expect(client.text()).toBe('data: hello\n\n');

        // A comment counts as activity as well.
        void app.locals.res.sse.comment('app');
        jest.advanceTimersByTime(999);
        await settle();
        expect(count(client.text(), ': ping')).toBe(0);

        // Silence: one ping per interval (resolution 100 ms, so within 1000..1100 ms).
        jest.advanceTimersByTime(101);
        await client.waitFor((t) => count(t, ': ping\n\n') === 1);
        jest.advanceTimersByTime(1100);
        await client.waitFor((t) => count(t, ': ping\n\n') === 2);
        jest.advanceTimersByTime(1100);
        await client.waitFor((t) => count(t, ': ping\n\n') === 3);

        // After close: no pings, the timer is gone, the scheduler is empty.
        app.locals.res.sse.close();
        await client.ended;
        expect(scheduler.size).toBe(0);
        expect(scheduler.running).toBe(false);
        expect(jest.getTimerCount()).toBe(0);
        jest.advanceTimersByTime(10_000);
        await settle();
        expect(count(client.text(), ': ping')).toBe(3);
      } finally {
        server.close();
      }
    });

    it('uses ONE timer for many streams', async () => {
      const scheduler = new KeepaliveScheduler();
      const app = createApp(framework, [keepalive({ intervalMs: 15_000, scheduler })], () => {});
      const server = await serve(app);
      try {
        const clients = await Promise.all(Array.from({ length: 50 }, () => rawGet(`${server.url}/`)));
        await settle();
        expect(scheduler.size).toBe(50);
        expect(jest.getTimerCount()).toBe(1);
        jest.advanceTimersByTime(16_000);
        await Promise.all(clients.map((c) => c.waitFor((t) => t === ': ping\n\n')));
        expect(jest.getTimerCount()).toBe(1);
        await disconnectAll(clients, scheduler);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        server.close();
      }
    });

    it('writes at most 256 due pings per timer callback, the rest on the next turns', async () => {
      let pings = 0;
      const observe = observeWrites((chunk) => chunk === ': ping\n\n' && pings++);
      const scheduler = new KeepaliveScheduler();
      const app = createApp(framework, [observe, keepalive({ intervalMs: 1000, scheduler })], () => {});
      const server = await serve(app);
      try {
        const clients = await Promise.all(Array.from({ length: 300 }, () => rawGet(`${server.url}/`)));
        await settle();
        expect(scheduler.size).toBe(300);
        // Every stream is due in the same bucket; one callback writes a slice, then yields to I/O.
        jest.advanceTimersToNextTimer();
        expect(pings).toBe(256);
        expect(jest.getTimerCount()).toBe(1); // the rest are still due: the timer fires again at once
        jest.advanceTimersToNextTimer();
        expect(pings).toBe(300);
        await Promise.all(clients.map((c) => c.waitFor((t) => t === ': ping\n\n')));
        await disconnectAll(clients, scheduler);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        server.close();
      }
    });

    it('writes a due ping from the timer callback itself, leaving no Immediate behind', async () => {
      const writes: string[] = [];
      const observe = observeWrites((chunk) => writes.push(chunk));
      const app = createApp(framework, [observe, keepalive({ intervalMs: 1000 })], () => {});
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await settle();
        const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
        const before = immediates();
        jest.advanceTimersByTime(1200);
        // No await since the timer fired: the ping already went through res.write().
        expect(writes).toEqual([': ping\n\n']);
        expect(immediates()).toBe(before);
        await client.waitFor((t) => t === ': ping\n\n');
      } finally {
        server.close();
      }
    });

    it('uses the comment text', async () => {
      const app = createApp(framework, [keepalive({ intervalMs: 1000, comment: 'keep\nalive' })], () => {});
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await settle();
        jest.advanceTimersByTime(1200);
        await client.waitFor((t) => t === ': keep\n: alive\n\n');
      } finally {
        server.close();
      }
    });
  });

  describe('with a raw client (real timers)', () => {
    it('pings while idle, not while events flow', async () => {
      const app = createApp(framework, [sse(), keepalive({ intervalMs: 200 })], (_req, res) => {
        let n = 0;
        const timer = setInterval(() => {
          void res.sse!.send(String(++n));
          if (n === 20) clearInterval(timer);
        }, 30);
        res.on('close', () => clearInterval(timer));
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await client.waitFor((t) => t.includes('data: 20\n\n'));
        // Events every 30 ms for 600 ms: the stream was never silent for 200 ms.
        expect(client.text()).not.toContain(': ping');
        await client.waitFor((t) => count(t, ': ping') >= 2);
        expect(client.text().indexOf(': ping')).toBeGreaterThan(client.text().indexOf('data: 20'));
      } finally {
        server.close();
      }
    });

    it('writes pings as whole chunks straight to the socket when nothing wraps res.write', async () => {
      // A spy on the prototype (not on the instance) is still "Node's own write" to keepalive, and
      // shows it was not called for the pings; the events are still written through it.
      const write = jest.spyOn(http.ServerResponse.prototype, 'write');
      const app = createApp(framework, [keepalive({ intervalMs: 40, comment: 'pïng ☃\nline 2' })], (_req, res) => {
        void res.sse!.send('before');
        setTimeout(() => void res.sse!.send('after'), 150);
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        const ping = ': pïng ☃\n: line 2\n\n';
        // The raw client decodes the chunked body: a wrong chunk size would corrupt or stall it.
        const text = await client.waitFor((t) => t.includes('data: after\n\n') && count(t, ping) >= 3);
        expect(text.startsWith(`data: before\n\n${ping}`)).toBe(true);
        expect(text.replaceAll(ping, '')).toBe('data: before\n\ndata: after\n\n');
        const written = write.mock.calls.map(([chunk]) => String(chunk));
        expect(written.some((c) => c.includes('pïng'))).toBe(false);
        expect(written.filter((c) => c.includes('data: '))).toHaveLength(2);
        client.destroy();
      } finally {
        write.mockRestore();
        server.close();
      }
    });

    it('goes back to res.write for the pings once a middleware wraps it, even after direct pings', async () => {
      const wrapped: string[] = [];
      const app = createApp(framework, [keepalive({ intervalMs: 40 })], (_req, res) => {
        const timer = setTimeout(() => {
          const write = res.write.bind(res) as (...args: unknown[]) => boolean;
          res.write = ((chunk: unknown, ...rest: unknown[]) => (wrapped.push(String(chunk)), write(chunk, ...rest))) as typeof res.write;
        }, 150);
        res.on('close', () => clearTimeout(timer));
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await client.waitFor((t) => count(t, ': ping\n\n') >= 1);
        await waitUntil(() => wrapped.length >= 2);
        expect(wrapped.every((c) => c === ': ping\n\n')).toBe(true);
        // Direct and wrapped pings interleave into one well-formed chunked body.
        expect(client.text()).toMatch(/^(: ping\n\n)+$/);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('writes no direct ping while a slow reader leaves bytes in the socket, then pings once it drains', async () => {
      const write = jest.spyOn(net.Socket.prototype, 'write');
      const pingWrites = () => write.mock.calls.filter(([chunk]) => Buffer.isBuffer(chunk) && chunk.includes(': ping')).length;
      let big = 0;
      const app = createApp(framework, [keepalive({ intervalMs: 40 })], (_req, res) => {
        void res.sse!.send('x'.repeat(8 * 1024 * 1024)).then(() => (big = 2));
        big = 1;
      });
      const server = await serve(app);
      let paused!: http.IncomingMessage;
      const req = http.get(`${server.url}/`, { agent: false }, (res) => (paused = res).pause());
      req.on('error', () => {});
      try {
        await waitUntil(() => big === 1 && paused !== undefined);
        await realSleep(300); // several intervals with the backlog unread
        expect(big).toBe(1);
        expect(pingWrites()).toBe(0);
        let text = '';
        paused.setEncoding('utf8');
        paused.on('data', (c: string) => (text += c));
        paused.resume();
        await waitUntil(() => text.includes(': ping\n\n'));
        expect(pingWrites()).toBeGreaterThan(0);
        expect(text.indexOf(': ping')).toBeGreaterThan(8 * 1024 * 1024);
      } finally {
        write.mockRestore();
        req.destroy();
        server.close();
      }
    });

    it('an HTTP/1.0 response (not chunked) gets its pings through res.write, unframed', async () => {
      const app = createApp(framework, [keepalive({ intervalMs: 40 })], () => {});
      const server = await serve(app);
      const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
      try {
        let raw = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (raw += chunk));
        socket.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
        await waitUntil(() => count(raw, ': ping\n\n') >= 2);
        const [head, body] = raw.split('\r\n\r\n', 2) as [string, string];
        expect(head).not.toMatch(/transfer-encoding/i);
        expect(body).toMatch(/^(: ping\n\n)+$/);
      } finally {
        socket.destroy();
        server.close();
      }
    });

    it('pings arrive one by one behind compression mounted first', async () => {
      const app = framework();
      app.use(compression());
      app.get('/', keepalive({ intervalMs: 40 }), () => {});
      const server = await serve(app);
      try {
        let text = '';
        let encoding: string | undefined;
        const req = http.get(`${server.url}/`, { agent: false, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          encoding = res.headers['content-encoding'];
          const gunzip = res.pipe(zlib.createGunzip());
          gunzip.setEncoding('utf8');
          gunzip.on('data', (chunk: string) => (text += chunk));
          gunzip.on('error', () => {});
        });
        req.on('error', () => {});
        // Held in zlib without res.flush(), nothing would arrive until the response ended.
        await waitUntil(() => count(text, ': ping\n\n') >= 2);
        expect(encoding).toBe('gzip');
        expect(text).toMatch(/^(: ping\n\n)+$/);
        req.destroy();
      } finally {
        server.close();
      }
    });

    it('intervalMs: 0 disables pings (no || default) and starts no timer', async () => {
      const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
      const app = createApp(framework, [keepalive({ intervalMs: 0, scheduler })], () => {});
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await realSleep(150);
        expect(client.text()).toBe('');
        expect(scheduler.size).toBe(0);
        expect(scheduler.running).toBe(false);
      } finally {
        server.close();
      }
    });

    it('opens the stream itself when mounted alone, in any order with sse()', async () => {
      for (const chain of [[keepalive()], [keepalive(), sse({ retryMs: 5 })], [sse({ retryMs: 5 }), keepalive()]]) {
        const app = createApp(framework, chain, (_req, res) => {
          void res.sse!.send('x');
          res.sse!.close();
        });
        const res = await request(app).get('/');
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(res.text).toMatch(/data: x\n\n$/);
      }
    });

    it("as the last handler of a route it does not fall through to the app's 404 handler", async () => {
      const app = framework();
      app.get('/', sse(), keepalive({ intervalMs: 40 }));
      // A catch-all 404 would throw "headers already sent", and Express would destroy the socket.
      app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await client.waitFor((t) => count(t, ': ping') >= 2);
        expect(client.text()).toMatch(/^(: ping\n\n)+$/);
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('stops when the client goes away mid-stream', async () => {
      const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
      let closed!: () => void;
      const gone = new Promise<void>((resolve) => (closed = resolve));
      const app = createApp(framework, [keepalive({ intervalMs: 40, scheduler })], (_req, res) => {
        res.on('close', closed);
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await client.waitFor((t) => t.includes(': ping'));
        client.destroy();
        await gone;
        expect(scheduler.size).toBe(0);
        expect(scheduler.running).toBe(false);
      } finally {
        server.close();
      }
    });
  });

  describe('idleTimeoutMs and maxDurationMs', () => {
    it('idleTimeoutMs ends a silent stream with a retry hint; pings do not count as activity', async () => {
      const app = createApp(framework, [keepalive({ intervalMs: 30, idleTimeoutMs: 200, retryMs: 1234 })], () => {});
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        await client.ended;
        expect(count(client.text(), ': ping')).toBeGreaterThanOrEqual(2);
        expect(client.text()).toMatch(/retry: 1234\n\n$/);
      } finally {
        server.close();
      }
    });

    it('idleTimeoutMs is reset by events', async () => {
      const app = createApp(framework, [keepalive({ intervalMs: 0, idleTimeoutMs: 150, retryMs: 10 })], (_req, res) => {
        let n = 0;
        const timer = setInterval(() => void res.sse!.send(String(++n)), 40);
        res.on('close', () => clearInterval(timer));
        setTimeout(() => clearInterval(timer), 400).unref();
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        const t0 = performance.now();
        await client.ended;
        // Events for ~400 ms, then 150 ms of silence: far longer than idleTimeoutMs alone.
        expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
        expect(client.text()).toMatch(/retry: 10\n\n$/);
      } finally {
        server.close();
      }
    });

    it('maxDurationMs ends even a busy stream', async () => {
      const app = createApp(framework, [keepalive({ maxDurationMs: 200, retryMs: 50 })], (_req, res) => {
        const timer = setInterval(() => void res.sse!.send('tick'), 20);
        res.on('close', () => clearInterval(timer));
      });
      const server = await serve(app);
      try {
        const client = await rawGet(`${server.url}/`);
        const t0 = performance.now();
        await client.ended;
        expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
        expect(client.text()).toMatch(/data: tick\n\nretry: 50\n\n$/);
      } finally {
        server.close();
      }
    });
  });

  it('leaves nothing behind after 1,000 connect/disconnect cycles', async () => {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 50 });
    let open = 0;
    const app = createApp(framework, [keepalive({ intervalMs: 1000, scheduler })], (_req, res) => {
      open++;
      res.on('close', () => open--);
    });
    const server = await serve(app);
    const timersBefore = countTimers();
    try {
      for (let batch = 0; batch < 20; batch++) {
        const clients = await Promise.all(Array.from({ length: 50 }, () => rawGet(`${server.url}/`)));
        for (const c of clients) c.destroy();
        await Promise.all(clients.map((c) => c.ended));
      }
      await waitUntil(() => open === 0);
      expect(scheduler.size).toBe(0);
      expect(scheduler.running).toBe(false);
      // Node's own socket timers may take a moment to go; a leaked one would stay.
      await waitUntil(() => countTimers() <= timersBefore);
    } finally {
      server.close();
    }
  }, 30_000);
});

describe('keepalive() options', () => {
  it.each<[string, KeepaliveOptions]>([
    ['negative intervalMs', { intervalMs: -1 }],
    ['fractional intervalMs', { intervalMs: 1.5 }],
    ['NaN intervalMs', { intervalMs: NaN }],
    ['string intervalMs', { intervalMs: '15000' as unknown as number }],
    ['zero idleTimeoutMs', { idleTimeoutMs: 0 }],
    ['Infinity maxDurationMs', { maxDurationMs: Infinity }],
    ['non-string comment', { comment: 1 as unknown as string }],
  ])('throws a TypeError at factory time for %s', (_label, options) => {
    expect(() => keepalive(options)).toThrow(TypeError);
  });

  it('rejects a bad scheduler resolution', () => {
    expect(() => new KeepaliveScheduler({ resolutionMs: 0 })).toThrow(TypeError);
  });

  it('returns a named middleware', () => {
    expect(keepalive().name).toBe('keepalive');
  });
});

async function settle(): Promise<void> {
  // A few real turns of the loop: enough for a loopback write to be read back.
  for (let i = 0; i < 5; i++) await realSleep(2);
}

/** Observes (and forwards unchanged) what reaches `res.write()`. */
function observeWrites(onWrite: (chunk: string) => unknown): RequestHandler {
  return (_req, res, next) => {
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (onWrite(String(chunk)), write(chunk, ...rest))) as typeof res.write;
    next();
  };
}

/** Disconnects every client and waits until the scheduler has forgotten their streams. */
async function disconnectAll(clients: RawClient[], scheduler: KeepaliveScheduler): Promise<void> {
  for (const c of clients) c.destroy();
  await Promise.all(clients.map((c) => c.ended));
  await waitUntil(() => scheduler.size === 0);
}

async function waitUntil(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await realSleep(5);
  }
}

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function createApp(framework: Factory, chain: RequestHandler[], handler: RequestHandler) {
  const app = framework();
  app.get('/', ...chain, handler);
  return app;
}
