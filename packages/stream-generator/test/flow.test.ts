import http from 'node:http';
import { constants, gunzipSync } from 'node:zlib';
import compression from 'compression';
import type { Response } from 'express';
import { stream, type Source } from '@sluice/stream-generator';
import { deferred, expresses, listen, rawGet, sleep, within } from './helpers.js';

const KiB = 1024;

describe.each(expresses)('flow control on %s', (_name, makeApp) => {
  async function serve(source: (res: Response) => Source, onRes?: (res: Response) => void) {
    const app = makeApp();
    app.get('/s', (_req, res) => {
      onRes?.(res);
      void stream(res, source(res), { contentType: 'text/plain' });
    });
    return listen(app);
  }

  describe('backpressure (slow reader pausing the socket)', () => {
    it.each([
      ['sync', false],
      ['async', true],
    ])('a %s generator is pulled no more than a few buffers ahead, and again after drain', async (_kind, isAsync) => {
      const pulls = { count: 0, maxBuffered: 0 };
      const finalized = deferred();
      function* rows(res: Response) {
        try {
          for (;;) {
            pulls.count++;
            // What Node holds for this response beyond the kernel: bounded iff backpressure works.
            pulls.maxBuffered = Math.max(pulls.maxBuffered, res.writableLength);
            yield 'y'.repeat(1000) + '\n';
          }
        } finally {
          finalized.resolve();
        }
      }
      async function* asyncRows(res: Response) {
        yield* rows(res);
      }
      const server = await serve((res) => (isAsync ? asyncRows(res) : rows(res)));
      const client = deferred<http.IncomingMessage>();
      const req = http.get(`${server.url}/s`, { agent: false }, (res) => {
        res.pause(); // read nothing: the kernel buffers fill, then Node's, then the pump must stop
        client.resolve(res);
      });
      req.on('error', () => undefined);
      const res = await client.promise;
      // Wait until the generator is no longer pulled.
      let last = -1;
      for (let round = 0; round < 20 && pulls.count !== last; round++) {
        last = pulls.count;
        await sleep(150);
      }
      expect(pulls.count).toBe(last); // it stopped
      expect(pulls.maxBuffered).toBeLessThanOrEqual(64 * KiB + 3 * 64 * KiB);
      // Reading resumes the pulls (drain wakes the pump up).
      res.resume();
      await within(2000, (async () => { while (pulls.count === last) await sleep(5); })(), 'pull after drain');
      req.destroy();
      await within(1000, finalized.promise, 'finally');
      await server.close();
    }, 15_000);
  });

  describe('coalescing', () => {
    it('gathers small chunks into few writes', async () => {
      let writes = 0;
      const server = await serve(
        () => (async function* () { for (let i = 0; i < 10_000; i++) yield 'abcdefghi\n'; })(),
        (res) => {
          const write = res.write.bind(res) as (chunk: unknown) => boolean;
          jest.spyOn(res, 'write').mockImplementation(((chunk: unknown) => (writes++, write(chunk))) as never);
        },
      );
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.body.length).toBe(100_000);
      // 65,536 chars then the rest (2 writes on a quiet machine), plus one write per 5 ms time slice,
      // which a loaded machine multiplies; without coalescing it would be one write per chunk (10,000).
      expect(writes).toBeGreaterThanOrEqual(2);
      expect(writes).toBeLessThanOrEqual(100);
    });

    it('does not hold back what was produced when the async source pauses', async () => {
      const server = await serve(() => (async function* () {
        yield 'first ';
        yield 'part';
        await sleep(300);
        yield ' second';
      })());
      const got = await rawGet(`${server.url}/s`);
      await server.close();
      expect(got.body.toString()).toBe('first part second');
      expect(got.arrivals.length).toBe(2);
      expect(got.arrivals[1]!.ms - got.arrivals[0]!.ms).toBeGreaterThanOrEqual(200);
    });
  });

  describe('behind compression', () => {
    it('flushes the compressor at each write, so paused output is not held back', async () => {
      const app = makeApp();
      app.use(compression({ threshold: 0 }));
      app.get('/s', (_req, res) => void stream(res, (async function* () {
        yield 'first';
        await sleep(300);
        yield 'second';
      })(), { contentType: 'text/plain' }));
      const server = await listen(app);
      const got = await rawGet(`${server.url}/s`, 'GET', { 'Accept-Encoding': 'gzip' });
      await server.close();
      expect(got.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(got.body).toString()).toBe('firstsecond');
      // What arrived well before the end must already decompress to "first" (unflushed, the
      // compressor would hold it until the end).
      const end = got.arrivals.at(-1)!.ms;
      const early = got.arrivals.filter((a) => a.ms <= end - 200).reduce((n, a) => n + a.bytes, 0);
      expect(gunzipSync(got.body.subarray(0, early), { finishFlush: constants.Z_SYNC_FLUSH }).toString()).toBe('first');
    });
  });

  describe('event loop', () => {
    it('a sync source that never waits still lets timers run while it streams', async () => {
      let ticks = 0;
      let streaming = false;
      const timer = setInterval(() => (streaming ? ticks++ : undefined), 1);
      const server = await serve(() => (function* () {
        streaming = true;
        // 1,500 rows of ~0.1 ms CPU each and 15 KB in all: no backpressure pause would ever come.
        for (let i = 0; i < 1500; i++) {
          const until = performance.now() + 0.1;
          while (performance.now() < until);
          yield `row ${i}\n`;
        }
        streaming = false;
      })());
      const got = await rawGet(`${server.url}/s`);
      clearInterval(timer);
      await server.close();
      expect(got.body.toString().split('\n')).toHaveLength(1501);
      expect(ticks).toBeGreaterThanOrEqual(3);
      expect(got.arrivals.length).toBeGreaterThanOrEqual(2); // what was ready went out at each yield
    });
  });
});
