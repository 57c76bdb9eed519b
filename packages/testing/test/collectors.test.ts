import express from 'express';
import request from 'supertest';
import { collectNDJSON, collectSSE, listen, openSSE, TestingTimeoutError, within } from '@sluice/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An endless SSE route that counts how many clients are still connected. */
function feed() {
  let open = 0;
  const app = express();
  app.get('/feed', (req, res) => {
    open++;
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(': hello\n\nretry: 1500\n\n');
    let n = 0;
    const timer = setInterval(() => res.write(`id: ${++n}\nevent: tick\ndata: ${n}\n\n`), 10);
    res.on('close', () => {
      clearInterval(timer);
      open--;
    });
  });
  return { app, open: () => open };
}

describe('collectSSE()', () => {
  it('parses events, comments and retries with arrival times, and disconnects after `count`', async () => {
    const { app, open } = feed();
    const got = await collectSSE(request(app).get('/feed'), { count: 3 });
    expect(got.status).toBe(200);
    expect(got.events.map(({ event, data, id }) => ({ event, data, id }))).toEqual([
      { event: 'tick', data: '1', id: '1' },
      { event: 'tick', data: '2', id: '2' },
      { event: 'tick', data: '3', id: '3' },
    ]);
    expect(got.comments.map((c) => c.text)).toEqual(['hello']);
    expect(got.retries).toEqual([1500]);
    expect(got.events[2]!.at).toBeGreaterThanOrEqual(got.events[0]!.at);
    expect(got.complete).toBe(false);
    await within(2000, (async () => { while (open() > 0) await sleep(5); })(), 'server saw the disconnect');
  });

  it('stops at the first event `until` accepts', async () => {
    const { app } = feed();
    const got = await collectSSE(request(app).get('/feed'), { until: (e) => e.data === '2' });
    expect(got.events.map((e) => e.data)).toEqual(['1', '2']);
  });

  it('rejects with TestingTimeoutError carrying what arrived', async () => {
    const { app } = feed();
    const error = await collectSSE(request(app).get('/feed'), { timeoutMs: 120 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestingTimeoutError);
    expect((error as TestingTimeoutError).code).toBe('TIMEOUT');
    expect(((error as TestingTimeoutError).received as { events: unknown[] }).events.length).toBeGreaterThan(0);
  });

  it('reports a complete response when the server ends it', async () => {
    const app = express();
    app.get('/once', (_req, res) => res.type('text/event-stream').send('data: a\n\ndata: b\n\n'));
    const got = await collectSSE(request(app).get('/once'));
    expect(got.events.map((e) => e.data)).toEqual(['a', 'b']);
    expect(got.complete).toBe(true);
  });
});

describe('openSSE()', () => {
  it('waits for events, sends headers, and disconnects like a closed tab', async () => {
    const { app, open } = feed();
    const server = await listen(app);
    const conn = await openSSE(`${server.url}/feed`, { headers: { 'Last-Event-ID': '7' } });
    const first = await conn.waitFor(2);
    expect(first.map((e) => e.id)).toEqual(['1', '2']);
    await conn.disconnect();
    expect(conn.collection.complete).toBe(false);
    await within(2000, (async () => { while (open() > 0) await sleep(5); })(), 'server saw the disconnect');
    await server.close();
  });

  it('waitFor rejects when the stream closes first', async () => {
    const app = express();
    app.get('/short', (_req, res) => res.type('text/event-stream').send('data: only\n\n'));
    const server = await listen(app);
    const conn = await openSSE(`${server.url}/short`);
    await expect(conn.waitFor(2, 2000)).rejects.toBeInstanceOf(TestingTimeoutError);
    await server.close();
  });
});

describe('collectNDJSON()', () => {
  it('parses the lines of a complete response', async () => {
    const app = express();
    app.get('/ok', (_req, res) => res.type('application/x-ndjson').send('{"a":1}\n{"a":2}\n'));
    const ok = await collectNDJSON(request(app).get('/ok'));
    expect(ok.values.map((v) => v.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(ok.complete).toBe(true);
  });
});

describe('a response the server cuts', () => {
  function cutting() {
    const app = express();
    app.get('/cut.ndjson', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"a":1}\n{"a":2}\n{"a":');
      setTimeout(() => res.destroy(), 20);
    });
    app.get('/cut.sse', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\ndata: 2\n\ndata: 3');
      setTimeout(() => res.destroy(), 20);
    });
    return app;
  }

  it('collectNDJSON resolves at once with the lines before the cut, complete: false', async () => {
    const t0 = Date.now();
    const cut = await collectNDJSON(request(cutting()).get('/cut.ndjson'), { timeoutMs: 2000 });
    expect(cut.values.map((v) => v.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(cut.complete).toBe(false);
    expect(cut.rest).toBe('{"a":');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('collectSSE resolves at once with the events before the cut, complete: false', async () => {
    const t0 = Date.now();
    const cut = await collectSSE(request(cutting()).get('/cut.sse'), { timeoutMs: 2000 });
    expect(cut.events.map((e) => e.data)).toEqual(['1', '2']);
    expect(cut.complete).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
