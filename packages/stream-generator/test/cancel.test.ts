import http from 'node:http';
import { Readable } from 'node:stream';
import type { Response } from 'express';
import { stream, streamRoute, type Source } from '@sluice/stream-generator';
import { deferred, expresses, listen, sleep, within } from './helpers.js';

/** Opens `url`, reads the first piece of the body, then destroys the request (the client leaves). */
function leaveAfterFirstChunk(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

describe.each(expresses)('client gone on %s', (_name, makeApp) => {
  /** Serves GET /s with `stream()`; resolves `outcome` with how the promise settled and leftover listeners. */
  async function serve(source: () => Source) {
    const outcome = deferred<{ settled: string; closeListeners: number; drainListeners: number }>();
    const app = makeApp();
    app.get('/s', (_req, res: Response) => {
      const before = { close: res.listenerCount('close'), drain: res.listenerCount('drain') };
      stream(res, source()).then(
        () => outcome.resolve({ settled: 'resolved', closeListeners: res.listenerCount('close') - before.close, drainListeners: res.listenerCount('drain') - before.drain }),
        (e: Error) => outcome.resolve({ settled: `rejected: ${e.message}`, closeListeners: -1, drainListeners: -1 }),
      );
    });
    const server = await listen(app);
    return { server, outcome: outcome.promise };
  }

  it('runs the finally of an endless async generator within 1 s and resolves, leaving no listener', async () => {
    const finalized = deferred();
    const { server, outcome } = await serve(() => (async function* () {
      try {
        for (let i = 0; ; i++) {
          yield `line ${i}\n`;
          await sleep(1);
        }
      } finally {
        finalized.resolve();
      }
    })());
    await leaveAfterFirstChunk(`${server.url}/s`);
    await within(1000, finalized.promise, 'generator finally');
    expect(await within(1000, outcome, 'stream() settling')).toEqual({ settled: 'resolved', closeListeners: 0, drainListeners: 0 });
    await server.close();
  });

  it('runs the finally of an endless sync generator held back by backpressure', async () => {
    const finalized = deferred();
    const { server, outcome } = await serve(() => (function* () {
      try {
        for (;;) yield 'x'.repeat(1024);
      } finally {
        finalized.resolve();
      }
    })());
    await leaveAfterFirstChunk(`${server.url}/s`);
    await within(1000, finalized.promise, 'generator finally');
    expect((await within(1000, outcome, 'stream() settling')).settled).toBe('resolved');
    await server.close();
  });

  it('releases a generator parked on a never-settling await through the signal', async () => {
    const finalized = deferred<boolean>();
    const app = makeApp();
    app.get('/s', streamRoute(async function* (_req, signal) {
      try {
        yield 'first';
        // Stands for an upstream call that never answers; only the signal can end it.
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        yield 'never';
      } finally {
        finalized.resolve(signal.aborted);
      }
    }));
    const server = await listen(app);
    await leaveAfterFirstChunk(`${server.url}/s`);
    expect(await within(1000, finalized.promise, 'generator finally')).toBe(true);
    await server.close();
  });

  it('does not hang on a generator that ignores the signal: stream() resolves, the signal aborts', async () => {
    const aborted = deferred<AbortSignal>();
    const { server, outcome } = await serve(() => (signal: AbortSignal) => {
      signal.addEventListener('abort', () => aborted.resolve(signal), { once: true });
      return (async function* () {
        yield 'first';
        await new Promise(() => undefined); // parked for good
      })();
    });
    await leaveAfterFirstChunk(`${server.url}/s`);
    expect((await within(1000, aborted.promise, 'abort')).aborted).toBe(true);
    expect(await within(1000, outcome, 'stream() settling')).toEqual({ settled: 'resolved', closeListeners: 0, drainListeners: 0 });
    await server.close();
  });

  it('destroys a Node Readable source (its resource is closed)', async () => {
    const closed = deferred();
    const { server } = await serve(() => {
      const readable = new Readable({ read() { setTimeout(() => this.push('tick\n'), 1).unref(); } });
      readable.on('close', () => closed.resolve());
      return readable;
    });
    await leaveAfterFirstChunk(`${server.url}/s`);
    await within(1000, closed.promise, 'Readable close');
    await server.close();
  });

  it('cancels a web ReadableStream source, even with a read pending', async () => {
    const cancelled = deferred<unknown>();
    const { server } = await serve(() => new ReadableStream<string>({
      start(controller) { controller.enqueue('first'); }, // then never enqueues again
      cancel(reason) { cancelled.resolve(reason); },
    }));
    await leaveAfterFirstChunk(`${server.url}/s`);
    await within(1000, cancelled.promise, 'ReadableStream cancel');
    await server.close();
  });

  it('leaves no listener on res after a normal end', async () => {
    const { server, outcome } = await serve(() => (async function* () { for (let i = 0; i < 100; i++) yield 'x'.repeat(5000); })());
    await new Promise<void>((resolve) => http.get(`${server.url}/s`, { agent: false }, (r) => r.resume().on('end', resolve)));
    expect(await outcome).toEqual({ settled: 'resolved', closeListeners: 0, drainListeners: 0 });
    await server.close();
  });
});
