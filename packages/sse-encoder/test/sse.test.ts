import http from 'node:http';
import compression from 'compression';
import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { collectSSE, listen, openSSE } from '@sluice/testing';
import { createSSEStream, sse, SSEFormatError, type SSEStream } from '@sluice/sse-encoder';

type Express = typeof express;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['express 5', express],
  ['express 4', express4 as unknown as Express],
])('sse() on %s', (_name, makeApp) => {
  function createApp(handler: (stream: SSEStream, req: express.Request) => unknown, ...before: express.RequestHandler[]) {
    const app = makeApp();
    app.get('/sse', ...before, sse(), (req, res) => void handler(res.sse!, req));
    return app;
  }

  it('sets the event-stream headers and flushes them before any event', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const app = createApp(async (stream) => {
      await gate;
      stream.close();
    });
    const server = await listen(app);
    const conn = await openSSE(`${server.url}/sse`); // resolves at headers, before any event
    expect(conn.collection.status).toBe(200);
    expect(conn.collection.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(conn.collection.headers['cache-control']).toBe('no-cache');
    expect(conn.collection.headers['x-accel-buffering']).toBe('no');
    release();
    await conn.closed;
    expect(conn.collection.complete).toBe(true);
    await server.close();
  });

  it('sends data, events, comments and retry hints in order', async () => {
    const app = createApp(async (stream) => {
      await stream.send('plain');
      await stream.send({ event: 'update', id: '1', data: { n: 1 } });
      await stream.comment('just a comment');
      await stream.retry(2500);
      await stream.send({ data: 'two\nlines' });
      stream.close();
    });
    const { events, comments, retries, complete } = await collectSSE(request(app).get('/sse'));
    expect(events.map(({ event, data, id }) => ({ event, data, id }))).toEqual([
      { event: 'message', data: 'plain', id: undefined },
      { event: 'update', data: '{"n":1}', id: '1' },
      { event: 'message', data: 'two\nlines', id: undefined },
    ]);
    expect(comments.map((c) => c.text)).toEqual(['just a comment']);
    expect(retries).toEqual([2500]);
    expect(complete).toBe(true);
  });

  it('sends each event when it is produced (arrival-time gaps)', async () => {
    const app = createApp(async (stream) => {
      for (let i = 0; i < 3; i++) {
        await stream.send(String(i));
        await sleep(120);
      }
      stream.close();
    });
    const { events } = await collectSSE(request(app).get('/sse'));
    expect(events.map((e) => e.data)).toEqual(['0', '1', '2']);
    expect(events[2]!.at - events[0]!.at).toBeGreaterThanOrEqual(200);
  });

  it('delivers events one by one behind compression mounted first', async () => {
    const app = makeApp();
    app.use(compression());
    app.get('/sse', sse(), async (_req, res) => {
      for (let i = 0; i < 3; i++) {
        await res.sse!.send({ id: i, data: 'x'.repeat(100) });
        await sleep(150);
      }
      res.sse!.close();
    });
    const { events, headers } = await collectSSE(request(app).get('/sse').set('Accept-Encoding', 'gzip'));
    expect(headers['content-encoding']).toBe('gzip');
    expect(events.map((e) => e.id)).toEqual(['0', '1', '2']);
    // Buffered by zlib, all three would arrive together at the end.
    expect(events[1]!.at - events[0]!.at).toBeGreaterThanOrEqual(100);
    expect(events[2]!.at - events[1]!.at).toBeGreaterThanOrEqual(100);
  });

  it('coalesces sends of one turn into one write without waiting past the turn', async () => {
    const writes: number[] = [];
    const app = createApp(async (stream) => {
      for (let i = 0; i < 50; i++) void stream.send(String(i));
      await sleep(50);
      stream.close();
    }, (_req, res, next) => {
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      // Observes (and forwards unchanged) what reaches the response.
      res.write = ((...args: unknown[]) => (writes.push(Date.now()), write(...args))) as typeof res.write;
      next();
    });
    const { events } = await collectSSE(request(app).get('/sse'));
    expect(events).toHaveLength(50);
    expect(writes).toHaveLength(1);
  });

  it('flush() writes what is pending at once, in one write, and leaves no Immediate behind', async () => {
    const writes: string[] = [];
    const app = createApp(async (stream) => {
      void stream.send('a');
      void stream.comment('b');
      const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
      const before = immediates();
      stream.flush();
      // Synchronous: the frames reached res.write() before this turn ends.
      writes.push(`flushed:${writes.length}`);
      expect(immediates()).toBe(before - 1);
      stream.flush(); // nothing pending: no empty write
      await sleep(20);
      stream.close();
      stream.flush(); // closed: a no-op
    }, (_req, res, next) => {
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      res.write = ((chunk: unknown, ...rest: unknown[]) => (writes.push(String(chunk)), write(chunk, ...rest))) as typeof res.write;
      next();
    });
    const { events, comments } = await collectSSE(request(app).get('/sse'));
    expect(events.map((e) => e.data)).toEqual(['a']);
    expect(comments.map((c) => c.text)).toEqual(['b']);
    expect(writes).toEqual(['data: a\n\n: b\n\n', 'flushed:1']);
  });

  describe('lastEventId', () => {
    const app = createApp((stream) => {
      void stream.send(stream.lastEventId ?? '(none)');
      stream.close();
    });
    it.each([
      ['the Last-Event-ID header', (t: request.Test) => t.set('Last-Event-ID', 'abc-41'), 'abc-41'],
      ['the lastEventId query parameter', (t: request.Test) => t.query({ lastEventId: 'q 9' }), 'q 9'],
      ['neither', (t: request.Test) => t, '(none)'],
      ['an empty header', (t: request.Test) => t.set('Last-Event-ID', ''), '(none)'],
    ])('comes from %s', async (_what, decorate, expected) => {
      const { events } = await collectSSE(decorate(request(app).get('/sse')));
      expect(events[0]!.data).toBe(expected);
    });
  });

  it('close() is idempotent and sends after close resolve without writing', async () => {
    let after: Promise<void> | undefined;
    const app = createApp((stream) => {
      void stream.send('one');
      stream.close();
      stream.close();
      after = stream.send('two');
      expect(stream.closed).toBe(true);
      expect(stream.signal.aborted).toBe(true);
    });
    const { events } = await collectSSE(request(app).get('/sse'));
    expect(events.map((e) => e.data)).toEqual(['one']);
    await expect(after).resolves.toBeUndefined();
  });

  it('answers HEAD with the headers only', async () => {
    const app = makeApp();
    app.head('/sse', sse(), (_req, res) => expect(res.sse!.closed).toBe(true));
    const res = await request(app).head('/sse');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('throws SSEFormatError synchronously for an unsafe event, leaving the stream usable', async () => {
    const app = createApp(async (stream) => {
      expect(() => stream.send({ id: 'a\nb', data: 'x' })).toThrow(SSEFormatError);
      await stream.send('still fine');
      stream.close();
    });
    const { events } = await collectSSE(request(app).get('/sse'));
    expect(events.map((e) => e.data)).toEqual(['still fine']);
  });

  it('sends the retryMs hint first and rejects a bad one when the middleware is created', async () => {
    const app = makeApp();
    app.get('/sse', sse({ retryMs: 1234, headers: { 'X-Feed': 'demo' } }), (_req, res) => res.sse!.close());
    const { retries, headers } = await collectSSE(request(app).get('/sse'));
    expect(retries).toEqual([1234]);
    expect(headers['x-feed']).toBe('demo');
    expect(() => sse({ retryMs: -5 })).toThrow(TypeError);
  });

  describe('client disconnect', () => {
    it('aborts the signal, settles pending sends and leaves no timer or listener behind', async () => {
      let stream!: SSEStream;
      let res!: http.ServerResponse;
      let baseline = 0;
      const aborted = new Promise<void>((resolve) => {
        const app = createApp((s) => {
          stream = s;
          s.signal.addEventListener('abort', () => resolve(), { once: true });
          void s.send('hello');
        }, (_req, r, next) => {
          res = r;
          baseline = r.listenerCount('close');
          next();
        });
        void listen(app).then(async (server) => {
          const conn = await openSSE(`${server.url}/sse`);
          await conn.waitFor(1);
          await conn.disconnect();
          await aborted;
          await server.close();
        });
      });
      await aborted;
      expect(stream.closed).toBe(true);
      await expect(stream.send('after')).resolves.toBeUndefined();
      await sleep(20);
      expect(res.listenerCount('close')).toBeLessThanOrEqual(baseline);
      expect(res.listenerCount('drain')).toBe(0);
      expect(process.getActiveResourcesInfo()).not.toContain('Immediate');
    });

    it('a producer blocked on backpressure is released when the client leaves (slow reader)', async () => {
      const chunk = 'y'.repeat(16 * 1024);
      let produced = 0;
      let loopEnded!: () => void;
      const ended = new Promise<void>((r) => (loopEnded = r));
      const app = createApp(async (stream) => {
        // Bounded on purpose: without backpressure this would try to buffer 256 MiB.
        while (!stream.closed && produced < 16384) {
          await stream.send(chunk);
          produced++;
        }
        loopEnded();
      });
      const server = await listen(app);
      const req = http.get(`${server.url}/sse`, { agent: false });
      const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
      res.pause(); // a reader that stops reading
      await sleep(400);
      const aheadBytes = produced * chunk.length;
      // Kernel socket buffers on loopback hold a few MiB; the rest must wait for drain.
      expect(aheadBytes).toBeLessThan(32 * 1024 * 1024);
      expect(produced).toBeLessThan(16384);
      req.destroy();
      await ended; // never hangs on drain once the client is gone
      await server.close();
    });
  });
});

describe('createSSEStream()', () => {
  it('works on a plain node:http server and is idempotent per response', async () => {
    const server = http.createServer((req, res) => {
      const a = createSSEStream(req, res);
      const b = createSSEStream(req, res, { retryMs: 5 });
      expect(b).toBe(a);
      void a.send({ event: 'hi', data: 'there' });
      a.close();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const conn = await openSSE(`http://127.0.0.1:${port}/`);
    await conn.closed;
    expect(conn.collection.events).toEqual([expect.objectContaining({ event: 'hi', data: 'there' })]);
    expect(conn.collection.retries).toEqual([]);
    server.close();
  });

  it('rejects an invalid retryMs before touching the response', () => {
    const res = { headersSent: false } as unknown as http.ServerResponse;
    expect(() => createSSEStream({ headers: {} } as http.IncomingMessage, res, { retryMs: 1.5 })).toThrow(SSEFormatError);
  });
});
