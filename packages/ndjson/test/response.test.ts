import http from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import request from 'supertest';
import { NDJSONSerializeError, ndjson, ndjsonResponse, parseNDJSON, type NDJSONOptions } from '@sluice/ndjson';
import { deferred, expresses, listen, rawGet, sleep, within, type Express } from './helpers.js';

describe.each(expresses)('ndjson() / ndjsonResponse() on %s', (_name, express) => {
  it('writes one JSON value per line, always \\n, as application/x-ndjson', async () => {
    const rows = [{ id: 1, name: 'Zoë' }, 'line\nbreak', 3, null, ['\u2028']];
    const app = createApp(express, {}, (_req, res) => {
      void res.ndjson!(
        (async function* () {
          yield* rows;
        })(),
      );
    });
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.text).toBe(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(res.text).not.toContain('\r');
    const back: unknown[] = [];
    for await (const v of parseNDJSON(res.text)) back.push(v);
    expect(back).toEqual(rows);
  });

  it('sends a sync iterable, an object-mode stream, and a function of the signal (with status and headers)', async () => {
    const app = express();
    app.get('/array', ndjsonResponse(), (_req, res) => void res.ndjson!([1, 2, 3]));
    app.get('/fn', ndjsonResponse({ status: 201, headers: { 'X-Rows': 'yes' } }), (_req, res) => {
      void res.ndjson!(async (signal: AbortSignal) => {
        expect(signal.aborted).toBe(false);
        return [{ a: 1 }];
      });
    });
    expect((await request(app).get('/array')).text).toBe('1\n2\n3\n');
    const fn = await request(app).get('/fn');
    expect(fn.status).toBe(201);
    expect(fn.headers['x-rows']).toBe('yes');
    expect(fn.text).toBe('{"a":1}\n');
  });

  it('ndjson(res, …) works without the middleware and resolves when the body is sent', async () => {
    const sent = deferred();
    const app = express();
    app.get('/', (_req, res, next) => {
      ndjson(res, [{ ok: true }], { contentType: 'application/x-ndjson; charset=utf-8' }).then(() => sent.resolve(), next);
    });
    const res = await request(app).get('/');
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.text).toBe('{"ok":true}\n');
    await within(2000, sent.promise, 'resolve');
  });

  describe('values that cannot be serialized', () => {
    it('before the first line: an HTTP error through next(err), and the source is closed', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      let closed = false;
      const seen = deferred<unknown>();
      const app = createApp(
        express,
        {},
        (_req, res) =>
          void res.ndjson!(
            (function* () {
              try {
                yield circular;
                yield 2;
              } finally {
                closed = true;
              }
            })(),
          ),
        seen.resolve,
      );
      const res = await request(app).get('/');
      expect(res.status).toBe(500);
      const error = await seen.promise;
      expect(error).toBeInstanceOf(NDJSONSerializeError);
      expect(error).toMatchObject({ code: 'NDJSON_UNSERIALIZABLE', index: 0 });
      expect(closed).toBe(true);
    });

    it('after the first line: the response is cut (socket destroyed), like any error after headers', async () => {
      const seen = deferred<unknown>();
      const rows = async function* () {
        yield 1;
        await sleep(20); // the first line is on the wire before the bad value comes
        yield 2n;
        yield 3;
      };
      const app = createApp(express, {}, (_req, res) => void res.ndjson!(rows()), seen.resolve);
      const server = await listen(app);
      try {
        const res = await rawGet(server.url);
        expect(res.status).toBe(200);
        expect(res.complete).toBe(false);
        expect(res.text).toBe('1\n');
        expect(await within(2000, seen.promise, 'next(err)')).toMatchObject({ code: 'NDJSON_UNSERIALIZABLE', index: 1 });
      } finally {
        await server.close();
      }
    });

    it('undefined is an error too (skipping it would shift the lines)', async () => {
      const seen = deferred<unknown>();
      const app = createApp(express, {}, (_req, res) => void res.ndjson!([undefined]), seen.resolve);
      expect((await request(app).get('/')).status).toBe(500);
      expect(await seen.promise).toMatchObject({ code: 'NDJSON_UNSERIALIZABLE', index: 0 });
    });

    it('a replacer makes BigInt serializable', async () => {
      const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
      const app = createApp(express, { replacer }, (_req, res) => void res.ndjson!([{ big: 2n ** 70n }]));
      expect((await request(app).get('/')).text).toBe('{"big":"1180591620717411303424"}\n');
    });
  });

  describe('errorLine', () => {
    const failing = () =>
      (async function* () {
        yield { row: 1 };
        throw Object.assign(new Error('db connection lost'), { code: 'ECONNRESET' });
      })();

    it('ends the stream with an error record instead of cutting it; the error still reaches onError', async () => {
      const reported = deferred<unknown>();
      const app = createApp(express, { errorLine: true, onError: reported.resolve }, (_req, res) => void res.ndjson!(failing()));
      const server = await listen(app);
      try {
        const res = await rawGet(server.url);
        expect(res.complete).toBe(true);
        expect(res.text).toBe('{"row":1}\n{"error":{"message":"Internal Server Error"}}\n');
        expect(await within(2000, reported.promise, 'onError')).toMatchObject({ message: 'db connection lost' });
      } finally {
        await server.close();
      }
    });

    it('a function writes its own record; without onError the error goes to next(err) once the response is out', async () => {
      const seen = deferred<unknown>();
      const errorLine = (e: unknown) => ({ type: 'error', reason: (e as Error).message });
      let response: http.ServerResponse | undefined;
      const events = ['close', 'finish', 'error', 'drain'];
      let baseline: number[] = [];
      const app = createApp(
        express,
        { errorLine },
        (_req, res) => {
          response = res;
          baseline = events.map((e) => res.listenerCount(e));
          void res.ndjson!(failing());
        },
        seen.resolve,
      );
      const server = await listen(app);
      try {
        const res = await rawGet(server.url);
        expect(res.complete).toBe(true);
        expect(res.text).toBe('{"row":1}\n{"type":"error","reason":"db connection lost"}\n');
        expect(await within(2000, seen.promise, 'next(err)')).toMatchObject({ message: 'db connection lost' });
        // Nothing of ours is left listening on the finished response (Node's own listeners stay).
        expect(events.map((e) => response!.listenerCount(e))).toEqual(baseline);
      } finally {
        await server.close();
      }
    });

    it('a failure before the first line is still an HTTP error', async () => {
      const seen = deferred<unknown>();
      const app = createApp(
        express,
        { errorLine: true },
        (_req, res) =>
          void res.ndjson!(
            (async function* () {
              throw new Error('no rows for you');
            })(),
          ),
        seen.resolve,
      );
      const res = await request(app).get('/');
      expect(res.status).toBe(500);
      expect(await seen.promise).toMatchObject({ message: 'no rows for you' });
    });
  });

  it('a client that goes away stops the source: its finally runs and the signal aborts', async () => {
    const cleaned = deferred<boolean>();
    const app = createApp(express, {}, (_req, res) => {
      void res.ndjson!(async function* (signal: AbortSignal) {
        try {
          for (let i = 0; ; i++) {
            yield { i };
            await sleep(5);
          }
        } finally {
          cleaned.resolve(signal.aborted);
        }
      } as unknown as (signal: AbortSignal) => AsyncIterable<unknown>);
    });
    const server = await listen(app);
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(server.url, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('no data')), 5000).unref();
      });
      expect(await within(5000, cleaned.promise, 'generator finally')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('a slow reader holds the source back (backpressure through stream-generator)', async () => {
    let pulled = 0;
    const app = createApp(express, {}, (_req, res) => {
      void res.ndjson!(
        (async function* () {
          for (;;) {
            pulled++;
            yield { pad: 'x'.repeat(1000) };
          }
        })(),
      );
    });
    const server = await listen(app);
    try {
      const res = await new Promise<http.IncomingMessage>((resolve) => {
        const req = http.get(server.url, { agent: false }, resolve);
        req.on('error', () => undefined);
      });
      res.pause();
      // Wait for the source to stop being pulled (it never ends by itself).
      let held = -1;
      for (let i = 0; i < 30 && held !== pulled; i++) {
        held = pulled;
        await sleep(200);
      }
      expect(pulled).toBe(held);
      // Socket buffers hold a few MiB at most: about a thousand 1 KiB rows per MiB.
      expect(held).toBeLessThan(20_000);
      res.destroy();
    } finally {
      await server.close();
    }
  });

  it('streams rows from a database cursor (the seed recipe)', async () => {
    const table = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, email: `user${i + 1}@example.com` }));
    // A cursor that fetches 100 rows per round trip, like SQLAlchemy's stream() in the seed.
    async function* cursor(signal: AbortSignal) {
      for (let offset = 0; offset < table.length && !signal.aborted; offset += 100) {
        await sleep(1);
        yield* table.slice(offset, offset + 100);
      }
    }
    const app = createApp(express, {}, (_req, res) => void res.ndjson!((signal: AbortSignal) => cursor(signal)));
    const res = await request(app).get('/');
    expect(res.text.split('\n')).toHaveLength(251);
    expect(JSON.parse(res.text.split('\n')[249]!)).toEqual({ id: 250, email: 'user250@example.com' });
  });

  it('refuses text as a source (that is already NDJSON: use stream())', async () => {
    await expect(ndjson({} as http.ServerResponse, 'abc' as unknown as string[])).rejects.toThrow(TypeError);
  });
});

function createApp(express: Express, options: NDJSONOptions, handler: RequestHandler, onNext?: (error: unknown) => void) {
  const app = express();
  app.get('/', ndjsonResponse(options), handler);
  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    onNext?.(error);
    if (res.headersSent) return next(error);
    res.status(500).json({ error: String(error) });
  };
  app.use(onError);
  return app;
}
