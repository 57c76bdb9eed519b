import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { collectSSE, listen, type TestServer } from '@sluice/testing';
import { sse } from '@sluice/sse-encoder';
import { llmStream, type LLMProtocol } from '@sluice/llm-stream';

// nginx from Debian's packages in front of an Express app, with a stock `proxy_pass` location and
// nginx's default proxy buffering: events must still arrive one by one, thanks to the headers
// sse() sends (X-Accel-Buffering: no). A control route without that header shows nginx buffering.
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
if (!NGINX) {
  const message = 'nginx test: nginx not found (apt-get install nginx)';
  if (process.env.SLUICE_REQUIRE_SERVICES === '1') throw new Error(`${message}; SLUICE_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`\n!!! SKIPPED ${message}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

(NGINX ? describe : describe.skip)('behind nginx with default proxy settings', () => {
  let app: TestServer;
  let nginx: ChildProcess;
  let proxy: string;
  let dir: string;
  let demo: ChildProcess;
  let demoProxy: string;

  beforeAll(async () => {
    const a = express();
    a.get('/sse', sse(), async (_req, res) => {
      for (let i = 0; i < 3; i++) {
        await res.sse!.send({ id: i, data: `event ${i}` });
        await sleep(250);
      }
      res.sse!.close();
    });
    // What a hand-written SSE route without the anti-buffering header gets.
    a.get('/unmarked', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      for (let i = 0; i < 3; i++) {
        res.write(`id: ${i}\ndata: event ${i}\n\n`);
        await sleep(250);
      }
      res.end();
    });
    // LLM tokens, 250 ms apart, in every protocol.
    a.get('/llm/:protocol', (req, res, next) => {
      const tokens = async function* () {
        for (const token of ['one', ' two', ' three']) {
          yield token;
          await sleep(250);
        }
      };
      llmStream(req, res, tokens(), { protocol: req.params.protocol as LLMProtocol }).catch(next);
    });
    app = await listen(a);
    demo = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../examples/demo/server.ts')], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, PORT: '0', OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(demo.stdout!.setEncoding('utf8'), 'data')) as [string];
    const demoUrl = /Sluice demo on (http:\S+)/.exec(line)![1]!;
    dir = mkdtempSync(join(tmpdir(), 'sluice-nginx-'));
    const port = await freePort();
    const demoPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass ${app.url}; }
  }
  server {
    listen 127.0.0.1:${demoPort};
    location / { proxy_pass ${demoUrl}; }
  }
}`);
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    proxy = `http://127.0.0.1:${port}`;
    demoProxy = `http://127.0.0.1:${demoPort}`;
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.destroy(); r(true); }).on('error', () => r(false)));
      if (up) return;
      await sleep(50);
    }
    throw new Error('nginx did not start');
  }, 15_000);

  afterAll(async () => {
    nginx?.kill();
    demo?.kill();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events from sse() arrive one by one through the proxy', async () => {
    const { events, headers } = await collectSSE(request(proxy).get('/sse'));
    expect(events.map((e) => e.data)).toEqual(['event 0', 'event 1', 'event 2']);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events[1]!.at - events[0]!.at).toBeGreaterThanOrEqual(150);
    expect(events[2]!.at - events[1]!.at).toBeGreaterThanOrEqual(150);
  });

  it.each(['sse', 'openai', 'ai-sdk', 'text', 'ndjson'])('LLM tokens in the %s protocol arrive one by one', async (protocol) => {
    const arrivals: { at: number; text: string }[] = [];
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      request(proxy)
        .get(`/llm/${protocol}`)
        .buffer(false)
        .parse((res, done) => {
          res.setEncoding('utf8');
          res.on('data', (text: string) => arrivals.push({ at: Date.now() - t0, text }));
          res.on('end', () => {
            done(null, undefined);
            resolve();
          });
        })
        .end((err) => err && reject(err));
    });
    const body = arrivals.map((a) => a.text).join('');
    expect(body).toContain('three');
    const firstAt = arrivals.find((a) => a.text.includes('one'))!.at;
    const lastAt = arrivals.find((a) => a.text.includes('three'))!.at;
    expect(lastAt - firstAt).toBeGreaterThanOrEqual(300);
  });

  describe('the demo routes (npm run demo) behind the same proxy', () => {
    it('the counter feed: one event a second, each as it is sent', async () => {
      const { events } = await collectSSE(request(demoProxy).get('/api/counter'), { count: 3, timeoutMs: 8000 });
      expect(events.map((e) => e.id)).toEqual(['1', '2', '3']);
      expect(events[2]!.at - events[0]!.at).toBeGreaterThanOrEqual(1500);
    });

    it('chat tokens from the offline model arrive while it generates', async () => {
      const { events } = await collectSSE(
        request(demoProxy).post('/api/chat').send({ messages: [{ role: 'user', content: 'hi' }] }),
        { until: (_e, all) => all.filter((e) => e.event === 'token').length >= 8, timeoutMs: 8000 },
      );
      const tokens = events.filter((e) => e.event === 'token');
      expect(events[0]!.event).toBe('start');
      // The model sends a token every 45 ms: buffered, all eight would arrive at once.
      expect(tokens[7]!.at - tokens[0]!.at).toBeGreaterThanOrEqual(150);
    });
  });

  it('control: without X-Accel-Buffering nginx holds the events back until the end', async () => {
    const { events } = await collectSSE(request(proxy).get('/unmarked'));
    expect(events).toHaveLength(3);
    expect(events[2]!.at - events[0]!.at).toBeLessThan(100);
  });
});
