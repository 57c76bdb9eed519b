import { Readable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { stream, streaming, streamRoute, StreamTypeError, type Source, type StreamOptions } from '@sluice/stream-generator';
import { expresses, listen, rawGet, sleep, type Express } from './helpers.js';

describe.each(expresses)('stream() on %s', (_name, makeApp) => {
  /** GET /s streams `source()` with `stream()`; failures go to an error handler that answers 500 JSON. */
  function createApp(source: (req: Request) => Source, options?: StreamOptions) {
    const app = makeApp();
    app.get('/s', (req, res, next) => void stream(res, source(req), options).catch(next));
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ name: err.name, message: err.message, code: (err as StreamTypeError).code });
    });
    return app;
  }

  describe('sources', () => {
    const cases: [string, () => Source][] = [
      ['a sync generator', () => (function* () { yield 'a'; yield Buffer.from('b'); yield new Uint8Array([99]); })()],
      ['an async generator', () => (async function* () { yield 'a'; await sleep(5); yield 'b'; yield 'c'; })()],
      ['an array', () => ['a', 'b', 'c']],
      ['a string', () => 'abc'],
      ['a Buffer', () => Buffer.from('abc')],
      ['a Node Readable', () => Readable.from(['a', 'b', 'c'])],
      ['a web ReadableStream', () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('ab')); c.enqueue(new TextEncoder().encode('c')); c.close(); } })],
      ['a function of the signal', () => (signal: AbortSignal) => (signal.aborted ? [] : ['a', 'bc'])],
      ['a function returning a promise', () => async () => Readable.from([Buffer.from('abc')])],
    ];
    it.each(cases)('streams %s', async (_what, source) => {
      const res = await request(createApp(() => source())).get('/s').buffer(true).parse((r, done) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => done(null, Buffer.concat(parts)));
      });
      expect(res.status).toBe(200);
      expect((res.body as Buffer).toString()).toBe('abc');
    });

    it('ends an empty source with an empty 200 body', async () => {
      const res = await request(createApp(() => [])).get('/s');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.text ?? '').toBe('');
    });

    it('rejects an unstreamable source with ERR_INVALID_SOURCE before any byte (500)', async () => {
      const res = await request(createApp(() => 42 as unknown as Source)).get('/s');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ name: 'StreamTypeError', code: 'ERR_INVALID_SOURCE' });
      expect(res.body.message).toContain('number (42)');
    });
  });

  describe('options', () => {
    it('sets contentType, status, headers and filename with the first byte', async () => {
      const app = createApp(() => ['x'], { contentType: 'text/csv; charset=utf-8', status: 201, headers: { 'X-Rows': 1, 'Cache-Control': 'no-store' }, filename: 'export.csv' });
      const res = await request(app).get('/s');
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['x-rows']).toBe('1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-disposition']).toBe('attachment; filename=export.csv');
      expect(res.text).toBe('x');
    });

    it('encodes a non-ASCII filename per RFC 8187 with an ASCII fallback', async () => {
      const res = await request(createApp(() => ['x'], { filename: 'résumé €.txt' })).get('/s');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="r?sum? ?.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt`);
    });

    it('keeps a Content-Type set on res before', async () => {
      const app = makeApp();
      app.get('/s', (_req, res) => void stream(res.type('text/plain'), ['x']));
      const res = await request(app).get('/s');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    });

    it('rejects invalid options with ERR_INVALID_OPTION', async () => {
      for (const options of [{ status: 99 }, { bufferBytes: -1 }, { filename: 3 }, { onError: 'x' }, { headers: 'X-A: 1' }, { contentType: 5 }] as unknown as StreamOptions[]) {
        const res = await request(createApp(() => ['x'], options)).get('/s');
        expect(res.status).toBe(500);
        expect(res.body).toMatchObject({ name: 'StreamTypeError', code: 'ERR_INVALID_OPTION' });
      }
    });

    it('bufferBytes: 0 writes every chunk on its own; the default coalesces', async () => {
      const sizes = async (options: StreamOptions) => {
        const server = await listen(createApp(() => (function* () { for (let i = 0; i < 2000; i++) yield 'abcdefghij'; })(), options));
        const got = await rawGet(`${server.url}/s`);
        await server.close();
        expect(got.body.length).toBe(20000);
        return got.arrivals.length;
      };
      expect(await sizes({})).toBeLessThanOrEqual(2);
      expect(await sizes({ bufferBytes: 0 })).toBeGreaterThan(2);
    });
  });

  describe('HEAD', () => {
    it('sends headers only and never starts the producer', async () => {
      let started = false;
      const app = createApp(() => () => ((started = true), ['x']), { contentType: 'text/plain', filename: 'a.txt' });
      const res = await request(app).head('/s');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['content-disposition']).toBe('attachment; filename=a.txt');
      expect(started).toBe(false);
    });

    it('runs the finally of a generator it will not read', async () => {
      let finalized = false;
      const gen = function* () { try { yield 'x'; } finally { finalized = true; } };
      const started = gen();
      started.next(); // parked at its first yield, so return() runs the finally
      await request(createApp(() => started)).head('/s');
      expect(finalized).toBe(true);
    });
  });

  describe('errors', () => {
    it('an error before the first byte reaches the Express error handler as a 500, without our headers', async () => {
      const app = createApp(() => (async function* () { await sleep(1); throw new Error('db down'); })(), { filename: 'x.csv', headers: { 'X-A': 'b' } });
      const res = await request(app).get('/s');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ message: 'db down' });
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.headers['x-a']).toBeUndefined();
    });

    it('a sync source failing before anything reached the socket is still a 500 (nothing was sent)', async () => {
      const app = createApp(() => (function* () { yield 'a'; yield 'b'; throw new Error('late but unsent'); })());
      const res = await request(app).get('/s');
      expect(res.status).toBe(500);
      expect(res.body.message).toBe('late but unsent');
    });

    it('an error after 10 chunks cuts the response (no clean end) and goes to onError', async () => {
      const errors: unknown[] = [];
      const source = async function* () {
        for (let i = 0; i < 10; i++) {
          yield `chunk ${i}\n`;
          await sleep(2);
        }
        throw new Error('mid-stream');
      };
      const server = await listen(createApp(() => source(), { onError: (e) => errors.push(e) }));
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.status).toBe(200);
      expect(got.complete).toBe(false);
      expect(got.body.toString()).toBe(Array.from({ length: 10 }, (_, i) => `chunk ${i}\n`).join(''));
      expect(errors).toEqual([new Error('mid-stream')]);
    });

    it('a wrong chunk type is a StreamTypeError naming the type, and the generator is closed', async () => {
      let finalized = false;
      const source = function* () { try { yield 'ok'; yield 42; } finally { finalized = true; } };
      const res = await request(createApp(() => source() as Iterable<string>)).get('/s');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ name: 'StreamTypeError', code: 'ERR_INVALID_CHUNK' });
      expect(res.body.message).toContain('number (42)');
      expect(finalized).toBe(true);
    });

    it('a wrong chunk type after the first byte cuts the response and reports a TypeError', async () => {
      const errors: unknown[] = [];
      const source = async function* () { yield 'ok'; await sleep(5); yield { row: 1 }; };
      const server = await listen(createApp(() => source() as AsyncIterable<string>, { onError: (e) => errors.push(e) }));
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.complete).toBe(false);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect((errors[0] as StreamTypeError).message).toContain('object (Object)');
    });

    it('a header that cannot be sent is an ERR_INVALID_OPTION 500 carrying none of the requested headers', async () => {
      const cases: StreamOptions[] = [{ headers: { 'X-Ok': 'a', 'X-Bad': 'a\nb' } }, { headers: { 'Bad Name': 'x' } }, { contentType: 'text/plain\r\nX-Injected: 1' }];
      for (const options of cases) {
        const res = await request(createApp(() => ['x'], { ...options, status: 201 })).get('/s');
        expect(res.status).toBe(500);
        expect(res.headers['x-ok']).toBeUndefined();
        expect(res.headers['x-injected']).toBeUndefined();
        expect(res.body).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('options.headers') });
      }
    });

    it('a throw at the first write of a pausing async source (an on-headers hook) is a 500, not a crash', async () => {
      const app = makeApp();
      app.get('/s', (_req, res, next) => {
        jest.spyOn(res, 'writeHead').mockImplementation(() => { throw new Error('header hook failed'); });
        void stream(res, (async function* () { yield 'a'; await sleep(20); yield 'b'; })()).catch((e: Error) => {
          jest.restoreAllMocks();
          next(e);
        });
      });
      app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).send(err.message));
      const res = await request(app).get('/s');
      expect(res.status).toBe(500);
      expect(res.text).toBe('header hook failed');
    });

    it('a throw when ending an empty body is a 500 too, never a hang', async () => {
      const app = makeApp();
      app.get('/s', (_req, res, next) => {
        jest.spyOn(res, 'writeHead').mockImplementation(() => { throw new Error('hook on end'); });
        void stream(res, [], { filename: 'x.csv' }).catch((e: Error) => {
          jest.restoreAllMocks();
          next(e);
        });
      });
      app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).send(err.message));
      const res = await request(app).get('/s');
      expect(res.status).toBe(500);
      expect(res.text).toBe('hook on end');
      expect(res.headers['content-disposition']).toBeUndefined();
    });

    it('closes a Readable it was handed when the options are invalid', async () => {
      const readable = Readable.from(['x']);
      await expect(stream(null as never, readable, { status: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect(readable.destroyed).toBe(true);
    });

    it('names null and undefined chunks', async () => {
      for (const [chunk, named] of [[null, 'yielded null;'], [undefined, 'yielded undefined;']] as const) {
        const res = await request(createApp(() => [chunk] as unknown as string[])).get('/s');
        expect(res.body.message).toContain(named);
      }
    });

    it('treats bytes written before stream() as the first byte: a later failure cuts the response', async () => {
      const app = makeApp();
      app.get('/s', (_req, res) => {
        res.write('preamble\n');
        stream(res, (async function* () { throw new Error('after preamble'); })(), { onError: () => undefined }).catch(() => undefined);
      });
      const server = await listen(app);
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.body.toString()).toBe('preamble\n');
      expect(got.complete).toBe(false);
    });

    it('the promise rejects after the first byte when there is no onError', async () => {
      let settled: unknown;
      const app = makeApp();
      app.get('/s', (_req, res) => {
        stream(res, (async function* () { yield 'a'; await sleep(5); throw new Error('boom'); })()).then(
          () => (settled = 'resolved'),
          (e: Error) => (settled = e.message),
        );
      });
      const server = await listen(app);
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.complete).toBe(false);
      expect(settled).toBe('boom');
    });
  });
});

describe.each(expresses)('streaming() and streamRoute() on %s', (_name, makeApp: Express) => {
  function withHandlers(app: ReturnType<Express>, seen: unknown[]) {
    app.use((err: Error, _req: Request, res: Response, next: NextFunction) => {
      seen.push(err);
      if (res.headersSent) return next(err);
      res.status(503).send(`handled: ${err.message}`);
    });
    return app;
  }

  it('res.stream() streams and sends an early error to next(err)', async () => {
    const seen: unknown[] = [];
    const app = makeApp();
    app.use(streaming());
    app.get('/ok', (_req, res) => void res.stream!(['a', 'b'], { contentType: 'text/plain' }));
    app.get('/bad', (_req, res) => void res.stream!((async function* () { throw new Error('early'); })()));
    withHandlers(app, seen);
    expect((await request(app).get('/ok')).text).toBe('ab');
    const bad = await request(app).get('/bad');
    expect(bad.status).toBe(503);
    expect(bad.text).toBe('handled: early');
    expect(seen).toHaveLength(1);
  });

  it("res.stream() reaches a sub-router's error handler", async () => {
    const app = makeApp();
    const router = makeApp.Router();
    app.use(streaming());
    router.get('/bad', (_req, res) => void res.stream!((async function* () { throw new Error('in router'); })()));
    router.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(409).send(`router: ${err.message}`));
    app.use('/r', router);
    const res = await request(app).get('/r/bad');
    expect(res.status).toBe(409);
    expect(res.text).toBe('router: in router');
  });

  it('streamRoute() passes req and a signal, and routes an early error to the error handler', async () => {
    const seen: unknown[] = [];
    const app = makeApp();
    app.get('/hi/:name', streamRoute(async function* (req, signal) {
      expect(signal).toBeInstanceOf(AbortSignal);
      yield `hi ${req.params.name}`;
    }, { contentType: 'text/plain' }));
    app.get('/bad', streamRoute(() => { throw new Error('no source'); }));
    withHandlers(app, seen);
    expect((await request(app).get('/hi/ann')).text).toBe('hi ann');
    expect((await request(app).get('/bad')).status).toBe(503);
    expect(seen).toEqual([new Error('no source')]);
  });

  it("an error before the first chunk is a 500 from Express's default error handler", async () => {
    const app = makeApp();
    app.get('/csv', streamRoute(async function* () { throw new Error('query failed'); }, { contentType: 'text/csv', filename: 'x.csv' }));
    const res = await request(app).get('/csv');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-disposition']).toBeUndefined();
  });

  it('without onError, a late error goes to next(err) after the connection was cut', async () => {
    const seen: unknown[] = [];
    const app = makeApp();
    app.get('/late', streamRoute(async function* () { yield 'a'; await sleep(5); throw new Error('late'); }));
    withHandlers(app, seen);
    const server = await listen(app);
    const got = await rawGet(`${server.url}/late`);
    await server.close();
    expect(got.complete).toBe(false);
    expect(seen).toEqual([new Error('late')]);
  });

  it('with onError, a late error goes only there', async () => {
    const seen: unknown[] = [];
    const reported: unknown[] = [];
    const app = makeApp();
    app.get('/late', streamRoute(async function* () { yield 'a'; await sleep(5); throw new Error('late'); }, { onError: (e) => reported.push(e) }));
    withHandlers(app, seen);
    const server = await listen(app);
    const got = await rawGet(`${server.url}/late`);
    await server.close();
    expect(got.complete).toBe(false);
    expect(reported).toEqual([new Error('late')]);
    expect(seen).toEqual([]);
  });

  it('streamRoute() rejects misuse when called', () => {
    expect(() => streamRoute('nope' as never)).toThrow(StreamTypeError);
    expect(() => streamRoute(() => [], { bufferBytes: 1.5 })).toThrow(/bufferBytes/);
  });
});
