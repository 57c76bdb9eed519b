// The README recipes, run for real (the seed's StreamingResponse patterns).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import request from 'supertest';
import { rechunk, streaming, streamRoute } from '@sluice/stream-generator';
import { deferred, expresses, listen, rawGet, sleep, within } from './helpers.js';

function* csvRows(count: number) {
  yield 'id,name,score\n';
  for (let i = 1; i <= count; i++) yield `${i},user_${i},${i * 0.5}\n`;
}

describe.each(expresses)('README recipes on %s', (_name, makeApp) => {
  it('text chunks with delays arrive one by one', async () => {
    const app = makeApp();
    app.get('/stream/text', streamRoute(async function* (_req, signal) {
      for (const word of ['Hello', ' ', 'from', ' ', 'Express', '!']) {
        yield word;
        await delay(40, undefined, { signal });
      }
    }, { contentType: 'text/plain; charset=utf-8' }));
    const server = await listen(app);
    const got = await rawGet(`${server.url}/stream/text`);
    await server.close();
    expect(got.body.toString()).toBe('Hello from Express!');
    expect(got.arrivals.length).toBeGreaterThanOrEqual(5);
    expect(got.arrivals.at(-1)!.ms - got.arrivals[0]!.ms).toBeGreaterThanOrEqual(150);
  });

  it('a 1,000,000-row CSV export arrives byte-exact, measured while it streams', async () => {
    const app = makeApp();
    app.get('/export.csv', streamRoute(() => csvRows(1_000_000), { contentType: 'text/csv; charset=utf-8', filename: 'export.csv' }));
    const expected = createHash('sha256');
    let expectedBytes = 0;
    for (const row of csvRows(1_000_000)) {
      expected.update(row);
      expectedBytes += row.length;
    }
    const server = await listen(app);
    const seen = await new Promise<{ bytes: number; sha: string; pieces: number; firstMs: number; lastMs: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const t0 = Date.now();
      http.get(`${server.url}/export.csv`, { agent: false }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let pieces = 0;
        let firstMs = -1;
        res.on('data', (chunk: Buffer) => {
          if (firstMs < 0) firstMs = Date.now() - t0;
          hash.update(chunk);
          bytes += chunk.length;
          pieces++;
        });
        res.on('end', () => resolve({ bytes, sha: hash.digest('hex'), pieces, firstMs, lastMs: Date.now() - t0, headers: res.headers }));
        res.on('error', reject);
      }).on('error', reject);
    });
    await server.close();
    expect(seen.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(seen.headers['content-disposition']).toBe('attachment; filename=export.csv');
    expect(seen.bytes).toBe(expectedBytes);
    expect(seen.sha).toBe(expected.digest('hex'));
    // It streamed: many pieces, the first long before the last.
    expect(seen.pieces).toBeGreaterThan(100);
    expect(seen.firstMs).toBeLessThan(seen.lastMs);
  }, 30_000);

  it('streams a file from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sg-'));
    const path = join(dir, 'movie.bin');
    const content = randomBytes(1024 * 1024 + 123);
    await writeFile(path, content);
    const app = makeApp();
    app.use(streaming());
    app.get('/download', (_req, res) => void res.stream!(createReadStream(path), { contentType: 'video/mp4', filename: 'movie.mp4' }));
    const res = await request(app).get('/download').buffer(true).parse((r, done) => {
      const parts: Buffer[] = [];
      r.on('data', (c: Buffer) => parts.push(c));
      r.on('end', () => done(null, Buffer.concat(parts)));
    });
    await rm(dir, { recursive: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(Buffer.compare(res.body as Buffer, content)).toBe(0);
  });

  describe('proxying another service with fetch', () => {
    /** An upstream that sends 200 × 1 KiB with a pause every 50, and reports when its client left. */
    async function upstream() {
      const left = deferred();
      const body = randomBytes(200 * 1024);
      const app = makeApp();
      app.get('/data', async (_req, res) => {
        res.on('close', () => (res.writableFinished ? undefined : left.resolve()));
        res.setHeader('Content-Type', 'application/octet-stream');
        for (let i = 0; i < 200 && !res.destroyed; i++) {
          res.write(body.subarray(i * 1024, (i + 1) * 1024));
          if (i % 50 === 49) await sleep(10);
        }
        res.end();
      });
      app.get('/endless', (_req, res) => {
        res.on('close', () => left.resolve());
        const timer = setInterval(() => res.write('tick\n'), 5);
        res.on('close', () => clearInterval(timer));
      });
      return { server: await listen(app), body, left: left.promise };
    }

    function proxyApp(upstreamUrl: string) {
      const app = makeApp();
      app.get('/proxy/:path', streamRoute(async (req, signal) => {
        const upstreamRes = await fetch(`${upstreamUrl}/${req.params.path}`, { signal });
        if (!upstreamRes.ok || !upstreamRes.body) throw new Error(`upstream answered ${upstreamRes.status}`);
        return upstreamRes.body;
      }, { contentType: 'application/octet-stream' }));
      return app;
    }

    it('passes the body through byte-exact', async () => {
      const up = await upstream();
      const proxy = await listen(proxyApp(up.server.url));
      const got = await rawGet(`${proxy.url}/proxy/data`);
      await proxy.close();
      await up.server.close();
      expect(got.complete).toBe(true);
      expect(Buffer.compare(got.body, up.body)).toBe(0);
    });

    it('turns an upstream error status into a 500 before any byte', async () => {
      const up = await upstream();
      const proxy = await listen(proxyApp(up.server.url));
      const got = await rawGet(`${proxy.url}/proxy/missing`);
      await proxy.close();
      await up.server.close();
      expect(got.status).toBe(500);
    });

    it('aborts the upstream request when the client leaves', async () => {
      const up = await upstream();
      const proxy = await listen(proxyApp(up.server.url));
      await new Promise<void>((resolve) => {
        const req = http.get(`${proxy.url}/proxy/endless`, { agent: false }, (res) => res.once('data', () => (req.destroy(), resolve())));
        req.on('error', () => undefined);
      });
      await within(1000, up.left, 'upstream sees its client leave');
      await proxy.close();
      await up.server.close();
    });
  });

  it('rechunks a file to fixed-size writes with an exact last one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sg-'));
    const path = join(dir, 'readings.bin');
    const content = randomBytes(10 * 1024 + 100);
    await writeFile(path, content);
    const writes: number[] = [];
    const app = makeApp();
    app.use((_req, res, next) => {
      const write = res.write.bind(res) as (chunk: Buffer) => boolean;
      jest.spyOn(res, 'write').mockImplementation(((chunk: Buffer) => (writes.push(chunk.length), write(chunk))) as never);
      next();
    });
    app.get('/fixed', streamRoute(() => rechunk(createReadStream(path, { highWaterMark: 1000 }), 1024), { bufferBytes: 0 }));
    const server = await listen(app);
    const got = await rawGet(`${server.url}/fixed`);
    await server.close();
    await rm(dir, { recursive: true });
    expect(Buffer.compare(got.body, content)).toBe(0);
    expect(writes).toEqual([...Array.from({ length: 10 }, () => 1024), 100]);
  });
});
