import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import request from 'supertest';
import { NDJSONAbortedError, NDJSONLineTooLongError, ndjsonBody, type NDJSONBodyOptions } from '@sluice/ndjson';
import { deferred, expresses, listen, sleep, upload, within, type Express } from './helpers.js';

describe.each(expresses)('ndjsonBody() on %s', (_name, express) => {
  /** Sums the `n` of each value; answers `{ count, sum }`. */
  const summing: RequestHandler = async (req, res, next) => {
    try {
      let count = 0;
      let sum = 0;
      for await (const v of req.ndjson!<{ n: number }>()) {
        count++;
        sum += v.n;
      }
      res.json({ count, sum });
    } catch (error) {
      next(error);
    }
  };

  it('yields the values of the body', async () => {
    const app = createApp(express, {}, summing);
    const res = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\r\n\n{"n":2}\n{"n":39}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: 3, sum: 42 });
  });

  it('processes a 100k-line upload while it streams: the first value is handled before the upload ends', async () => {
    const first = deferred();
    const app = createApp(express, {}, async (req, res, next) => {
      try {
        let count = 0;
        let sum = 0;
        for await (const v of req.ndjson!<{ n: number }>()) {
          if (count++ === 0) first.resolve();
          sum += v.n;
        }
        res.json({ count, sum });
      } catch (error) {
        next(error);
      }
    });
    const server = await listen(app);
    try {
      const client = upload(server.url);
      const batch = (from: number) => Array.from({ length: 1000 }, (_, i) => `{"n":${from + i}}\n`).join('');
      await client.write(batch(0));
      // The upload stays open until the handler has a value: buffering the body would hang here.
      await within(5000, first.promise, 'first value');
      for (let from = 1000; from < 100_000; from += 1000) await client.write(batch(from));
      client.req.end();
      const res = await within(10_000, client.response, 'response');
      expect(JSON.parse(res.text)).toEqual({ count: 100_000, sum: (99_999 * 100_000) / 2 });
    } finally {
      await server.close();
    }
  });

  it('a slow consumer holds the upload back instead of buffering it', async () => {
    const gate = deferred();
    const firstValue = deferred();
    let serverBytes = () => 0;
    const app = createApp(express, {}, async (req, res, next) => {
      serverBytes = () => req.socket.bytesRead;
      try {
        let count = 0;
        for await (const _ of req.ndjson!()) {
          if (count++ === 0) {
            firstValue.resolve();
            await gate.promise;
          }
        }
        res.json({ count });
      } catch (error) {
        next(error);
      }
    });
    const server = await listen(app);
    try {
      const client = upload(server.url);
      const line = `{"pad":"${'x'.repeat(1000)}"}\n`;
      const block = Buffer.from(line.repeat(64)); // 64 lines, ~64 KiB
      const total = 1024; // blocks: 64 MiB if nothing held it back
      let written = 0;
      await client.write(block);
      written++;
      await within(5000, firstValue.promise, 'first value');
      // Write until the socket stays full for 300 ms.
      while (written < total) {
        const stalled = await Promise.race([client.write(block).then(() => false), sleep(300).then(() => true)]);
        written++; // a stalled write is queued in the client all the same
        if (stalled) break;
      }
      // The client is held back, and the server took in little of what was written.
      expect(written).toBeLessThan(total / 2);
      expect(serverBytes()).toBeLessThan(4 * 1024 * 1024);
      gate.resolve();
      while (written < total) {
        await client.write(block);
        written++;
      }
      client.req.end();
      const res = await within(20_000, client.response, 'response');
      expect(JSON.parse(res.text)).toEqual({ count: total * 64 });
    } finally {
      gate.resolve();
      await server.close();
    }
  }, 30_000);

  it('req.ndjsonBatches(): the same values an array per piece; body errors answered the same way', async () => {
    const batches: number[][] = [];
    const app = createApp(express, {}, async (req, res, next) => {
      try {
        for await (const batch of req.ndjsonBatches!<{ n: number }>()) batches.push(batch.map((v) => v.n));
        res.json({ ok: true });
      } catch (error) {
        next(error);
      }
    });
    const lines = Array.from({ length: 20_000 }, (_, n) => JSON.stringify({ n })).join('\n');
    const ok = await request(app).post('/').type('application/x-ndjson').send(lines);
    expect(ok.body).toEqual({ ok: true });
    expect(batches.flat()).toEqual(Array.from({ length: 20_000 }, (_, n) => n));
    expect(batches.every((batch) => batch.length > 0)).toBe(true);
    batches.length = 0;
    const bad = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\n{"n":\n');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'NDJSON_MALFORMED_LINE', lineNumber: 2 });
    expect(batches).toEqual([[1]]);
  });

  it('reads nothing from a request without a body', async () => {
    const app = createApp(express, {}, summing);
    const res = await request(app).get('/');
    expect(res.body).toEqual({ count: 0, sum: 0 });
  });

  it('can be iterated once', async () => {
    const app = createApp(express, {}, (req, res) => {
      void req.ndjson!();
      try {
        req.ndjsonBatches!();
        res.json({ twice: true });
      } catch (error) {
        res.status(500).json({ message: (error as Error).message });
      }
    });
    const res = await request(app).post('/').type('application/x-ndjson').send('1\n');
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/only once/);
  });

  describe('type', () => {
    it('answers 415 with a JSON body for another Content-Type or charset', async () => {
      const app = createApp(express, {}, summing);
      for (const type of ['application/json', 'text/plain', 'application/x-ndjson; charset=latin1']) {
        const res = await request(app).post('/').set('Content-Type', type).send('{"n":1}\n');
        expect(res.status).toBe(415);
        expect(res.body.error).toMatchObject({ code: 'NDJSON_UNSUPPORTED_MEDIA_TYPE' });
      }
    });

    it('accepts the NDJSON and JSON Lines media types, case-insensitively, with a UTF-8 charset', async () => {
      const app = createApp(express, {}, summing);
      for (const type of ['application/ndjson', 'application/jsonl', 'Application/X-NDJSON; charset="UTF-8"']) {
        const res = await request(app).post('/').set('Content-Type', type).send('{"n":1}\n');
        expect(res.status).toBe(200);
      }
    });

    it('can be configured', async () => {
      const app = createApp(express, { type: 'application/vnd.rows+ndjson' }, summing);
      expect((await request(app).post('/').type('application/vnd.rows+ndjson').send('{"n":1}')).status).toBe(200);
      expect((await request(app).post('/').type('application/x-ndjson').send('{"n":1}')).status).toBe(415);
    });
  });

  describe('maxLineBytes', () => {
    it('answers 413 naming the line, while the rest of the line is still uploading', async () => {
      const app = createApp(express, { maxLineBytes: 1024 }, summing);
      const server = await listen(app);
      try {
        const client = upload(server.url);
        await client.write('{"n":1}\n{"n":"');
        // Far more than the limit, and no end of line: the answer must not wait for one.
        for (let i = 0; i < 8; i++) await client.write('x'.repeat(512));
        const res = await within(5000, client.response, '413');
        expect(res.status).toBe(413);
        expect(JSON.parse(res.text)).toEqual({
          error: { code: 'NDJSON_LINE_TOO_LONG', message: expect.stringContaining('line 2'), lineNumber: 2 },
        });
        client.req.destroy();
      } finally {
        await server.close();
      }
    });

    it('respond: false leaves the answer to the handler (typed error)', async () => {
      const seen = deferred<unknown>();
      const app = createApp(express, { maxLineBytes: 8, respond: false }, async (req, res) => {
        try {
          for await (const _ of req.ndjson!());
          res.json({ ok: true });
        } catch (error) {
          seen.resolve(error);
          res.status(422).json({ mine: true });
        }
      });
      const res = await request(app).post('/').type('application/x-ndjson').send('1\n"too long line"\n');
      expect(res.status).toBe(422);
      expect(await seen.promise).toBeInstanceOf(NDJSONLineTooLongError);
    });
  });

  describe('onMalformed', () => {
    it("answers 400 with a JSON body naming the line (values before it were handled)", async () => {
      const handled: number[] = [];
      const app = createApp(express, {}, async (req, res, next) => {
        try {
          for await (const v of req.ndjson!<{ n: number }>()) handled.push(v.n);
          res.json({ ok: true });
        } catch (error) {
          next(error);
        }
      });
      const res = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\n{"n":2}\n{"n":\n{"n":4}\n');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'NDJSON_MALFORMED_LINE', message: expect.stringContaining('line 3'), lineNumber: 3 } });
      expect(handled).toEqual([1, 2]);
    });

    it("'skip' and a callback keep the lines after it", async () => {
      const reported: number[] = [];
      const app = createApp(express, { onMalformed: (_line, n) => void reported.push(n) }, summing);
      const res = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\nnope\n{"n":2}\n');
      expect(res.body).toEqual({ count: 2, sum: 3 });
      expect(reported).toEqual([2]);
      const skipping = createApp(express, { onMalformed: 'skip' }, summing);
      expect((await request(skipping).post('/').type('application/x-ndjson').send('{"n":1}\nnope\n{"n":2}')).body).toEqual({ count: 2, sum: 3 });
    });

    it('a handler that already started responding gets the error, and no second response is attempted', async () => {
      const seen = deferred<unknown>();
      const app = createApp(express, {}, async (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        try {
          for await (const v of req.ndjson!()) res.write(`${JSON.stringify(v)}\n`);
        } catch (error) {
          seen.resolve(error);
        }
        res.end('done\n');
      });
      const res = await request(app).post('/').type('application/x-ndjson').send('1\n2\n{\n3\n');
      expect(res.status).toBe(200);
      expect(res.text).toBe('1\n2\ndone\n');
      expect(await seen.promise).toMatchObject({ code: 'NDJSON_MALFORMED_LINE', lineNumber: 3 });
    });

    it('an error thrown by the callback is left to the handler (never echoed to the client by the middleware)', async () => {
      const secret = Object.assign(new Error('db password is hunter2'), { status: 422, code: 'MINE' });
      const app = createApp(express, { onMalformed: () => { throw secret; } }, summing);
      const res = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\nnope\n');
      // The app's own error handler answered (status 422 from the error, body from the handler).
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ handlerError: 'MINE' });
      expect(res.text).not.toContain('hunter2');
    });

    it('validate plugs a schema in', async () => {
      const app = createApp(
        express,
        {
          validate: (v) => {
            if (typeof (v as { n?: unknown }).n !== 'number') throw new Error('n must be a number');
            return v;
          },
        },
        summing,
      );
      const res = await request(app).post('/').type('application/x-ndjson').send('{"n":1}\n{"n":"2"}\n');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'NDJSON_INVALID_VALUE', lineNumber: 2 });
    });
  });

  it.each([
    ['req.ndjson()', (req: Request) => req.ndjson!()],
    ['req.ndjsonBatches()', (req: Request) => flatten(req.ndjsonBatches!())],
  ])('a client that aborts the upload ends %s with NDJSONAbortedError', async (_name, read) => {
    const outcome = deferred<{ values: unknown[]; error: unknown }>();
    const app = createApp(express, {}, async (req, res) => {
      const values: unknown[] = [];
      try {
        for await (const v of read(req)) values.push(v);
        outcome.resolve({ values, error: undefined });
      } catch (error) {
        outcome.resolve({ values, error });
      }
      if (!res.headersSent) res.end();
    });
    const server = await listen(app);
    try {
      const client = upload(server.url);
      await client.write('1\n2\n3');
      await sleep(50);
      client.req.destroy();
      const { values, error } = await within(5000, outcome.promise, 'handler outcome');
      expect(values).toEqual([1, 2]);
      expect(error).toBeInstanceOf(NDJSONAbortedError);
      expect(error).toMatchObject({ code: 'NDJSON_ABORTED', bytesReceived: 5 });
    } finally {
      await server.close();
    }
  });

  it('rejects bad options when the middleware is created', () => {
    expect(() => ndjsonBody({ maxLineBytes: -1 })).toThrow(TypeError);
    expect(() => ndjsonBody({ onMalformed: 'drop' as 'skip' })).toThrow(/onMalformed/);
  });
});

function createApp(express: Express, options: NDJSONBodyOptions, handler: RequestHandler) {
  const app = express();
  app.all('/', ndjsonBody(options), handler);
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(error.status ?? 500).json({ handlerError: error.code ?? String(error) });
  };
  app.use(onError);
  return app;
}

async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}
