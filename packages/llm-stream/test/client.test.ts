import OpenAI from 'openai';
import { openAIServer, type LLMTestServer } from '@sluice/testing';
import { createCancelRegistry, llmStream, type LLMResult } from '@sluice/llm-stream';
import { streamTokens, StreamTokensError } from '@sluice/llm-stream/client';
import { createApp, frameworks, serve } from './helpers.js';

describe.each(frameworks)('streamTokens() (Node fetch) against a route on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream.close());

  async function setup(reply: Parameters<typeof openAIServer>[0]) {
    upstream = await openAIServer(reply);
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const registry = createCancelRegistry();
    const results: LLMResult[] = [];
    const app = createApp(
      framework,
      (req, res, next) => {
        llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
          registry,
          onFinish: (r) => void results.push(r),
        }).catch(next);
      },
      (app) => app.post('/cancel/:id', registry.route()),
    );
    return { server: await serve(app), results, registry };
  }

  it('yields the tokens, then exposes the id and the done event', async () => {
    const { server } = await setup({ tokens: ['a', 'b', 'c'], delayMs: 5 });
    try {
      const tokens = streamTokens(`${server.url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const got: string[] = [];
      for await (const token of tokens) got.push(token);
      expect(got).toEqual(['a', 'b', 'c']);
      expect(tokens.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(tokens.done).toEqual({ finishReason: 'stop', usage: null, characters: 3 });
      expect(tokens.cancelled).toBe(false);
      await expect(tokens[Symbol.asyncIterator]().next()).rejects.toThrow(TypeError);
    } finally {
      await server.close();
    }
  });

  it('AbortController: the iteration throws AbortError and the upstream socket closes', async () => {
    const { server, results } = await setup({ tokens: Array.from({ length: 100 }, (_, i) => `${i} `), delayMs: 10 });
    try {
      const controller = new AbortController();
      const got: string[] = [];
      await expect(
        (async () => {
          for await (const token of streamTokens(`${server.url}/chat`, { method: 'POST', signal: controller.signal })) {
            got.push(token);
            if (got.length === 3) controller.abort();
          }
        })(),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(got).toEqual(['0 ', '1 ', '2 ']);
      const upstreamRequest = await upstream.request(1);
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      while (!results.length) await new Promise((r) => setTimeout(r, 5));
      expect(results[0]).toMatchObject({ aborted: true });
    } finally {
      await server.close();
    }
  });

  it('break closes the connection as well; a cancel by id ends the iteration with cancelled = true', async () => {
    const { server, registry } = await setup({ tokens: Array.from({ length: 100 }, (_, i) => `${i} `), delayMs: 10 });
    try {
      for await (const token of streamTokens(`${server.url}/chat`, { method: 'POST' })) if (token) break;
      const first = await upstream.request(1);
      await first.closed;
      expect(first.aborted).toBe(true);

      const tokens = streamTokens(`${server.url}/chat`, { method: 'POST' });
      let n = 0;
      for await (const _ of tokens) if (++n === 2) registry.cancel(tokens.id!);
      expect(tokens.cancelled).toBe(true);
      expect(tokens.done).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('an error event throws StreamTokensError with code and retryable; an HTTP error too', async () => {
    const { server } = await setup({ tokens: ['a', 'b'], errorAfter: { tokens: 1, type: 'rate_limit_exceeded' }, delayMs: 10 });
    try {
      const got: string[] = [];
      const failure = (async () => {
        for await (const token of streamTokens(`${server.url}/chat`, { method: 'POST' })) got.push(token);
      })();
      await expect(failure).rejects.toBeInstanceOf(StreamTokensError);
      await expect(failure).rejects.toMatchObject({ code: 'rate_limited', retryable: true });
      expect(got).toEqual(['a']);
      const missing = (async () => {
        for await (const _ of streamTokens(`${server.url}/nowhere`)) void _;
      })();
      await expect(missing).rejects.toMatchObject({ code: 'http_error', status: 404, retryable: false });
    } finally {
      await server.close();
    }
  });
});
