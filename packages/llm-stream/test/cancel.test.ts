import OpenAI from 'openai';
import request from 'supertest';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { openAIServer, type LLMTestServer } from '@sluice/testing';
import { createCancelRegistry, llmStream, type CancelRegistry, type LLMProtocol, type LLMResult } from '@sluice/llm-stream';
import { createApp, fetchSSE, frameworks, serve, startStream } from './helpers.js';

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

function parseSSE(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  createParser({ onEvent: (e) => events.push(e) }).feed(text);
  return events;
}

describe.each(frameworks)('createCancelRegistry() on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  beforeEach(async () => {
    upstream = await openAIServer({ tokens: Array.from({ length: 100 }, (_, i) => `w${i} `), delayMs: 15 });
  });
  afterEach(() => upstream.close());

  function appWith(registry: CancelRegistry, results: LLMResult[], protocol: LLMProtocol = 'sse') {
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    return createApp(
      framework,
      (req, res, next) => {
        llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
          protocol,
          registry,
          owner: req.get('x-user'),
          onFinish: (r) => void results.push(r),
        }).catch(next);
      },
      (app) => app.post('/cancel/:id', registry.route()),
    );
  }

  it('cancel by id: upstream aborted, exactly one terminal event (`cancelled`), onFinish cancelled: true', async () => {
    const registry = createCancelRegistry();
    const results: LLMResult[] = [];
    const server = await serve(appWith(registry, results));
    try {
      const stream = await startStream(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => stream.text.split('event: token').length > 3);
      const [start] = parseSSE(stream.text);
      expect(start).toMatchObject({ event: 'start', data: JSON.stringify({ id: stream.id }) });
      expect(registry.has(stream.id)).toBe(true);

      const cancel = await request(server.url).post(`/cancel/${stream.id}`).expect(200);
      expect(cancel.body).toEqual({ id: stream.id, cancelled: true });
      const { text, complete } = await stream.rest;
      expect(complete).toBe(true);
      const names = parseSSE(text).map((e) => e.event);
      expect(names.at(-1)).toBe('cancelled');
      expect(names.filter((n) => n === 'cancelled' || n === 'done' || n === 'error')).toEqual(['cancelled']);
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      expect(results).toEqual([expect.objectContaining({ id: stream.id, cancelled: true, aborted: false, finishReason: undefined })]);
      expect(results[0]!.text).toMatch(/^w0 w1 /);
      // Gone from the registry: a second cancel is an unknown id.
      expect(registry.size).toBe(0);
      await request(server.url).post(`/cancel/${stream.id}`).expect(404);
    } finally {
      await server.close();
    }
  });

  it('cancel before the first token (id from onStart): `start` then `cancelled`, the upstream request is closed', async () => {
    await upstream.close();
    upstream = await openAIServer({ tokens: ['never'], firstTokenDelayMs: 3000 });
    const registry = createCancelRegistry();
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    let id = '';
    const results: LLMResult[] = [];
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
        registry,
        waitForOutputMs: 5000,
        onStart: (started) => (id = started),
        onFinish: (r) => void results.push(r),
      }).catch(next);
    });
    const server = await serve(app);
    try {
      const reading = fetchSSE(`${server.url}/chat`);
      const upstreamRequest = await upstream.request(1);
      await until(() => id !== '');
      expect(registry.cancel(id)).toBe(true);
      const { events, response } = await reading;
      expect(response.status).toBe(200);
      expect(events.map((e) => e.event)).toEqual(['start', 'cancelled']);
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      expect(results).toEqual([expect.objectContaining({ id, cancelled: true, text: '' })]);
    } finally {
      await server.close();
    }
  });

  it('wrong owner: 403 JSON and the generation goes on; the owner may cancel', async () => {
    const registry = createCancelRegistry({ authorize: (req, owner) => req.get('x-user') === owner });
    const results: LLMResult[] = [];
    const server = await serve(appWith(registry, results));
    try {
      const stream = await startStream(`${server.url}/chat`, { 'x-user': 'ann' });
      const refused = await request(server.url).post(`/cancel/${stream.id}`).set('x-user', 'bob').expect(403);
      expect(refused.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
      expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
      const before = stream.text.length;
      await until(() => stream.text.length > before + 20);
      expect(results).toEqual([]);
      await request(server.url).post(`/cancel/${stream.id}`).set('x-user', 'ann').expect(200);
      expect((await stream.rest).text).toMatch(/event: cancelled\n/);
    } finally {
      await server.close();
    }
  });

  it('an authorize hook that throws goes to next(err); nothing is cancelled', async () => {
    const registry = createCancelRegistry({
      authorize: async () => {
        throw new Error('auth backend down');
      },
    });
    const app = appWith(registry, []);
    const server = await serve(app);
    try {
      const stream = await startStream(`${server.url}/chat`);
      await request(server.url).post(`/cancel/${stream.id}`).expect(500);
      expect(app.errors).toEqual([expect.objectContaining({ message: 'auth backend down' })]);
      expect(registry.has(stream.id)).toBe(true);
      await stream.leave();
    } finally {
      await server.close();
    }
  });

  it('unknown id: 404 JSON; ids are distinct UUID v4 (122 random bits)', async () => {
    const registry = createCancelRegistry();
    const server = await serve(appWith(registry, []));
    try {
      const res = await request(server.url).post('/cancel/00000000-0000-4000-8000-000000000000').expect(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      expect(registry.cancel('nope')).toBe(false);
      const streams = await Promise.all([1, 2, 3].map(() => startStream(`${server.url}/chat`)));
      const ids = streams.map((s) => s.id);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Set(ids).size).toBe(3);
      expect(registry.size).toBe(3);
      await Promise.all(streams.map((s) => s.leave()));
      await until(() => registry.size === 0);
    } finally {
      await server.close();
    }
  });

  it.each<LLMProtocol>(['openai', 'ai-sdk', 'ndjson', 'text'])("protocol '%s': a cancel ends the response cleanly in the protocol's own way", async (protocol) => {
    const registry = createCancelRegistry();
    const results: LLMResult[] = [];
    const server = await serve(appWith(registry, results, protocol));
    try {
      const stream = await startStream(`${server.url}/chat`);
      await until(() => stream.text.includes('w2'));
      expect(registry.cancel(stream.id)).toBe(true);
      const { text, complete } = await stream.rest;
      expect(complete).toBe(true);
      const last = text.trimEnd().split('\n').at(-1)!;
      if (protocol === 'openai') expect(JSON.parse(last.slice(6))).toEqual({ error: { message: expect.any(String), type: 'cancelled', code: 'cancelled', param: null } });
      if (protocol === 'ai-sdk') expect(text).toMatch(/data: \{"type":"abort","reason":"cancelled"\}\n\ndata: \[DONE\]\n\n$/);
      if (protocol === 'ndjson') expect(JSON.parse(last)).toEqual({ type: 'cancelled', id: stream.id });
      if (protocol === 'text') expect(text).toMatch(/^w0 w1 w2 (w\d+ )*$/);
      expect(results).toEqual([expect.objectContaining({ cancelled: true, aborted: false })]);
    } finally {
      await server.close();
    }
  });
});
