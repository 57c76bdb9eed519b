import http from 'node:http';
import OpenAI from 'openai';
import request from 'supertest';
import { MemoryEventStore } from '@sluice/sse-resume';
import { openAIServer, type LLMTestServer } from '@sluice/testing';
import { cancelGeneration, createCancelRegistry, llmStream, resumeGeneration, type CancelRegistry, type LLMResult, type LLMResumeOptions } from '@sluice/llm-stream';
import { createApp, frameworks, parseSSE, serve, startStream, terminalsOf, tokensOf, until, expectCancelled, type Factory } from './helpers.js';

const TOKENS = Array.from({ length: 40 }, (_, i) => `t${i} `);

async function reconnect(url: string, lastEventId?: string) {
  const response = await fetch(url, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
  const text = await response.text();
  return { status: response.status, text, events: parseSSE(text) };
}

describe.each(frameworks)('llmStream({ resume }) on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream.close());

  function appWith(framework: Factory, resume: LLMResumeOptions, registry: CancelRegistry, results: LLMResult[]) {
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    return createApp(
      framework,
      (req, res, next) => {
        llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
          resume,
          registry,
          waitForOutputMs: 0,
          keepaliveMs: 20,
          onFinish: (r) => void results.push(r),
        }).catch(next);
      },
      (app) => {
        app.get('/chat/:id/stream', resumeGeneration({ store: resume.store, registry }));
        app.post('/cancel/:id', registry.route());
        app.post('/stop/:id', cancelGeneration({ store: resume.store }));
      },
    );
  }

  it('a disconnect does not stop the model; a reconnect with Last-Event-ID gets exactly the rest, then one terminal event', async () => {
    upstream = await openAIServer({ tokens: TOKENS, delayMs: 15 });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, createCancelRegistry(), results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => tokensOf(parseSSE(stream.text)).length >= 5);
      const before = parseSSE(stream.text);
      await stream.leave();
      const after = await reconnect(`${server.url}/chat/${stream.id}/stream`, before.at(-1)!.id);
      expect(after.status).toBe(200);
      expect(terminalsOf(after.events)).toEqual(['done']);
      expect(after.events.at(-1)!.event).toBe('done');
      expect(before.filter((e) => after.events.some((a) => a.id === e.id))).toEqual([]);
      expect([...tokensOf(before), ...tokensOf(after.events)].join('')).toBe(TOKENS.join(''));
      await until(() => results.length === 1);
      expect(results[0]).toMatchObject({ aborted: false, cancelled: false, text: TOKENS.join('') });
      expect(upstreamRequest.aborted).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('a reconnect without Last-Event-ID after the end replays the whole generation and ends', async () => {
    upstream = await openAIServer({ tokens: TOKENS.slice(0, 5) });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, createCancelRegistry(), results));
    try {
      const first = await startStream(`${server.url}/chat`);
      const whole = await first.rest;
      expect(whole.complete).toBe(true);
      const again = await reconnect(`${server.url}/chat/${first.id}/stream`);
      expect(again.events).toEqual(parseSSE(whole.text));
      expect(again.events.at(-1)!.event).toBe('done');
      expect(tokensOf(again.events).join('')).toBe(TOKENS.slice(0, 5).join(''));
    } finally {
      await server.close();
    }
  });

  it('a replay larger than the socket buffers, to a client that pauses, is written whole before the response ends', async () => {
    // 6 MB: more than loopback socket buffers hold, so the replay has to wait for 'drain' while the reader pauses.
    const big = Array.from({ length: 400 }, (_, i) => `${i}:${'x'.repeat(16_000)} `);
    upstream = await openAIServer({ tokens: big });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, createCancelRegistry(), results));
    try {
      const first = await startStream(`${server.url}/chat`);
      await first.rest;
      await until(() => results.length === 1, 20_000);
      const text = await new Promise<string>((resolve, reject) => {
        http.get(`${server.url}/chat/${first.id}/stream`, (res) => {
          res.pause();
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
          res.on('error', reject);
          setTimeout(() => res.resume(), 500);
        }).on('error', reject);
      });
      const events = parseSSE(text);
      expect(tokensOf(events).join('')).toBe(big.join(''));
      expect(terminalsOf(events)).toEqual(['done']);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('no client for keepRunningMs: the upstream is aborted, followers get one `error` (timeout), onFinish aborted: true', async () => {
    upstream = await openAIServer({ tokens: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 15 });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore(), keepRunningMs: 100 }, createCancelRegistry(), results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => tokensOf(parseSSE(stream.text)).length >= 3);
      await stream.leave();
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      await until(() => results.length === 1);
      expect(results[0]).toMatchObject({ aborted: true, cancelled: false });
      expect(results[0]!.text.length).toBeLessThan(200 * 4);
      const after = await reconnect(`${server.url}/chat/${stream.id}/stream`);
      expect(terminalsOf(after.events)).toEqual(['error']);
      expect(JSON.parse(after.events.find((e) => e.event === 'error')!.data)).toMatchObject({ code: 'timeout' });
    } finally {
      await server.close();
    }
  });

  it('a reconnect (with the registry) counts as a client: keepRunningMs runs from when the last client left', async () => {
    upstream = await openAIServer({ tokens: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 15 });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore(), keepRunningMs: 150 }, createCancelRegistry(), results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => tokensOf(parseSSE(stream.text)).length >= 3);
      await stream.leave();
      const follower = await fetch(`${server.url}/chat/${stream.id}/stream`);
      const reader = follower.body!.getReader();
      let seen = '';
      const started = Date.now();
      // Read well past keepRunningMs: the model must keep going while this client follows.
      while (Date.now() - started < 500) seen += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
      expect(upstreamRequest.aborted).toBe(false);
      expect(results).toEqual([]);
      await reader.cancel();
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      await until(() => results.length === 1);
      expect(results[0]).toMatchObject({ aborted: true });
      expect(tokensOf(parseSSE(seen)).length).toBeGreaterThan(3);
    } finally {
      await server.close();
    }
  });

  it('a cancel through the registry stops the model at once: `cancelled` is the one terminal event', async () => {
    upstream = await openAIServer({ tokens: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 15 });
    const results: LLMResult[] = [];
    const registry = createCancelRegistry();
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, registry, results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => tokensOf(parseSSE(stream.text)).length >= 3);
      const cancel = await request(server.url).post(`/cancel/${stream.id}`);
      expect(cancel.status).toBe(200);
      const { text, complete } = await stream.rest;
      expect(complete).toBe(true);
      expect(terminalsOf(parseSSE(text))).toEqual(['cancelled']);
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      await until(() => results.length === 1);
      expect(results[0]).toMatchObject({ cancelled: true, aborted: false });
      expect(registry.size).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('an upstream error before any output is still a real HTTP error, and nothing is kept in the store', async () => {
    upstream = await openAIServer({ httpError: { status: 429, type: 'rate_limit_error' } });
    const store = new MemoryEventStore();
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    let id = '';
    const app = createApp(framework, (req, res, next) => {
      const source = (signal: AbortSignal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal });
      llmStream(req, res, source, { resume: { store }, onStart: (started) => (id = started) }).catch(next);
    });
    const response = await request(app).post('/chat').send({});
    expect(response.status).toBe(429);
    expect(response.body.error.code).toBe('rate_limited');
    expect(id).not.toBe('');
    expect(store.readAfter(`llm:${id}`, undefined).events).toEqual([]);
  });

  it('an upstream error mid-stream reaches the client and later followers as one `error` event', async () => {
    upstream = await openAIServer({ tokens: TOKENS, errorAfter: { tokens: 3, type: 'server_error' } });
    const results: LLMResult[] = [];
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, createCancelRegistry(), results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const { text, complete } = await stream.rest;
      expect(complete).toBe(true);
      const first = parseSSE(text);
      expect(terminalsOf(first)).toEqual(['error']);
      expect(tokensOf(first).join('')).toBe(TOKENS.slice(0, 3).join(''));
      const again = await reconnect(`${server.url}/chat/${stream.id}/stream`, first[1]!.id);
      expect(tokensOf(again.events).join('')).toBe(TOKENS.slice(1, 3).join(''));
      expect(again.events.at(-1)!.event).toBe('error');
      await until(() => results.length === 1);
      expect(results[0]!.error).toMatchObject({ name: 'LLMStreamError', code: 'upstream_error' });
    } finally {
      await server.close();
    }
  });

  it('cancelGeneration() on another app sharing the store stops the model: `cancelled`; 409 once ended, 404 unknown', async () => {
    upstream = await openAIServer({ tokens: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 15 });
    const store = new MemoryEventStore();
    const results: LLMResult[] = [];
    const a = await serve(appWith(framework, { store }, createCancelRegistry(), results));
    const b = await serve(appWith(framework, { store }, createCancelRegistry(), []));
    try {
      const stream = await startStream(`${a.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => tokensOf(parseSSE(stream.text)).length >= 3);
      const stop = await request(b.url).post(`/stop/${stream.id}`);
      expect(stop.status).toBe(202);
      expect(stop.body).toEqual({ id: stream.id, cancelling: true });
      await expectCancelled(stream.rest, upstreamRequest, results);
      expect((await request(b.url).post(`/stop/${stream.id}`)).status).toBe(409);
      expect((await request(b.url).post('/stop/nope')).status).toBe(404);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('an unknown generation id answers 404 JSON', async () => {
    upstream = await openAIServer({});
    const server = await serve(appWith(framework, { store: new MemoryEventStore() }, createCancelRegistry(), []));
    try {
      const response = await request(server.url).get('/chat/no-such-id/stream');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: { code: 'not_found', message: 'No generation has this id' } });
    } finally {
      await server.close();
    }
  });

  it('resume with a protocol other than sse is a TypeError, and the upstream is never called', async () => {
    upstream = await openAIServer({});
    const store = new MemoryEventStore();
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, ['a'], { protocol: 'text', resume: { store } }).catch(next);
    });
    const response = await request(app).post('/chat').send({});
    expect(response.status).toBe(500);
    expect(app.errors[0]).toBeInstanceOf(TypeError);
    expect(() => resumeGeneration({ store: {} as never })).toThrow(TypeError);
    const bad = await request(createApp(framework, (req, res, next) => {
      llmStream(req, res, ['a'], { resume: { store, keepRunningMs: -1 } }).catch(next);
    })).post('/chat').send({});
    expect(bad.status).toBe(500);
  });
});
