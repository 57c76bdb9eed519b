import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import request from 'supertest';
import { anthropicServer, openAIServer, type LLMTestServer, type ScriptedReply } from '@sluice/testing';
import { llmStream, LLMStreamError, type LLMProtocol, type LLMResult, type LLMStreamOptions } from '@sluice/llm-stream';
import { createApp, fetchSSE, fetchText, frameworks, serve, type Factory } from './helpers.js';

type Kind = 'openai' | 'anthropic';

describe.each(frameworks)('llmStream() errors on %s', (_name, framework) => {
  let upstream: LLMTestServer | undefined;
  afterEach(async () => {
    await upstream?.close();
    upstream = undefined;
  });

  async function setup(kind: Kind, reply: ScriptedReply, options: LLMStreamOptions = {}, fw: Factory = framework) {
    upstream = kind === 'openai' ? await openAIServer(reply) : await anthropicServer(reply);
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const results: LLMResult[] = [];
    const reported: unknown[] = [];
    const app = createApp(fw, (req, res, next) => {
      const source =
        kind === 'openai'
          ? (signal: AbortSignal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal })
          : (signal: AbortSignal) => anthropic.messages.create({ model: 'm', max_tokens: 9, messages: [], stream: true }, { signal });
      llmStream(req, res, source, {
        onFinish: (r) => void results.push(r),
        onError: (e) => void reported.push(e),
        ...options,
        protocol: (req.query.protocol as LLMProtocol | undefined) ?? options.protocol,
      }).catch(next);
    });
    return { app, results, reported, server: await serve(app) };
  }

  describe('before any output: a real HTTP error through next(err)', () => {
    it.each<[string, Kind, ScriptedReply['httpError'], number, string, boolean]>([
      ['OpenAI 429', 'openai', { status: 429, type: 'rate_limit_exceeded', headers: { 'retry-after': '7' } }, 429, 'rate_limited', true],
      ['Anthropic 429', 'anthropic', { status: 429, type: 'rate_limit_error' }, 429, 'rate_limited', true],
      ['Anthropic 529 overloaded', 'anthropic', { status: 529, type: 'overloaded_error' }, 503, 'overloaded', true],
      ['OpenAI 500', 'openai', { status: 500, type: 'server_error' }, 502, 'upstream_error', true],
      ['OpenAI 401 (never passed on as 401)', 'openai', { status: 401, type: 'invalid_api_key', message: 'Incorrect API key provided: sk-***1234' }, 502, 'upstream_auth', false],
      ['Anthropic 400', 'anthropic', { status: 400, type: 'invalid_request_error' }, 400, 'invalid_request', false],
    ])('%s', async (_label, kind, httpError, status, code, retryable) => {
      const { app, results, server } = await setup(kind, { httpError });
      try {
        const res = await request(server.url).post('/chat').expect(status);
        expect(res.body.error.code).toBe(code);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const [err] = app.errors as LLMStreamError[];
        expect(err).toBeInstanceOf(LLMStreamError);
        expect(err).toMatchObject({ name: 'LLMStreamError', code, status, retryable });
        if (httpError!.headers) expect(res.headers['retry-after']).toBe('7');
        // The provider's own message stays in `cause`: an auth message may quote part of the key.
        expect(res.text).not.toContain('sk-');
        expect(results).toEqual([expect.objectContaining({ error: err, aborted: false })]);
      } finally {
        await server.close();
      }
    });

    it('an Anthropic `error` event after HTTP 200 but before any token is still an HTTP error (503)', async () => {
      const { server } = await setup('anthropic', { errorAfter: { tokens: 0, type: 'overloaded_error', message: 'Overloaded' } });
      try {
        const res = await request(server.url).post('/chat').expect(503);
        expect(res.body.error).toEqual({ code: 'overloaded', message: 'Overloaded' });
      } finally {
        await server.close();
      }
    });

    it('a refused connection is 502 network; a source of the wrong shape is 500 invalid_source', async () => {
      const dead = await openAIServer();
      const url = dead.url;
      await dead.close();
      const openai = new OpenAI({ baseURL: url, apiKey: 'test', maxRetries: 0 });
      const app = createApp(framework, (req, res, next) => {
        const source = req.query.bad ? [1, 2, 3] : (signal: AbortSignal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal });
        llmStream(req, res, source as never).catch(next);
      });
      const server = await serve(app);
      try {
        const refused = await request(server.url).post('/chat').expect(502);
        expect(refused.body.error.code).toBe('network');
        const bad = await request(server.url).post('/chat?bad=1').expect(500);
        expect(bad.body.error.code).toBe('invalid_source');
      } finally {
        await server.close();
      }
    });

    it('bad options reject with a TypeError before the response is touched', async () => {
      const app = createApp(framework, (req, res, next) => {
        llmStream(req, res, ['x'], { protocol: 'xml' as LLMProtocol }).catch(next);
      });
      const server = await serve(app);
      try {
        await request(server.url).post('/chat').expect(500);
        expect(app.errors).toEqual([expect.any(TypeError)]);
        expect((app.errors[0] as Error).message).toMatch(/protocol.*sse, openai, ai-sdk, text, ndjson/);
      } finally {
        await server.close();
      }
    });
  });

  describe('after output: the protocol’s error form, retryable set, response ended', () => {
    it.each<[string, Kind, ScriptedReply, string, boolean]>([
      ['Anthropic overloaded_error event', 'anthropic', { errorAfter: { tokens: 2, type: 'overloaded_error', message: 'Overloaded' } }, 'overloaded', true],
      ['Anthropic rate_limit_error event', 'anthropic', { errorAfter: { tokens: 1, type: 'rate_limit_error' } }, 'rate_limited', true],
      ['OpenAI server_error line', 'openai', { errorAfter: { tokens: 2, type: 'server_error', message: 'boom' } }, 'upstream_error', true],
      ['OpenAI invalid_request_error line', 'openai', { errorAfter: { tokens: 2, type: 'invalid_request_error' } }, 'invalid_request', false],
      ['OpenAI socket dropped', 'openai', { dropAfter: 2 }, 'network', true],
      ['Anthropic socket dropped', 'anthropic', { dropAfter: 2 }, 'network', true],
    ])("'sse': %s → one `error` event", async (_label, kind, reply, code, retryable) => {
      const { server, results, reported } = await setup(kind, { tokens: ['a', 'b', 'c', 'd'], ...reply });
      try {
        const { response, events, json } = await fetchSSE(`${server.url}/chat`);
        expect(response.status).toBe(200);
        const names = events.map((e) => e.event);
        expect(names.slice(0, 2)).toEqual(['start', 'token']);
        expect(names.filter((n) => ['done', 'error', 'cancelled'].includes(n ?? ''))).toEqual(['error']);
        expect(names.at(-1)).toBe('error');
        expect(json('error')[0]).toMatchObject({ code, retryable, message: expect.any(String) });
        expect(results[0]).toMatchObject({ aborted: false, error: expect.objectContaining({ code, retryable }) });
        expect(reported).toEqual([results[0]!.error]);
      } finally {
        await server.close();
      }
    });

    it("'openai': the error line makes a second OpenAI SDK client throw an APIError", async () => {
      const { server } = await setup('anthropic', { tokens: ['a', 'b', 'c'], errorAfter: { tokens: 2, type: 'overloaded_error', message: 'Overloaded' } }, { protocol: 'openai' });
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0 });
        const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
        let text = '';
        await expect(
          (async () => {
            for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          })(),
        ).rejects.toMatchObject({ type: 'overloaded', code: 'overloaded', message: 'Overloaded' });
        expect(text).toBe('ab');
      } finally {
        await server.close();
      }
    });

    it("'text': the connection is cut (no clean end), so a client can tell", async () => {
      // Paced, so the first bytes are on the wire before the drop (else it is still an HTTP error).
      const { server, results } = await setup('openai', { tokens: ['a', 'b', 'c'], dropAfter: 2, delayMs: 20 }, { protocol: 'text' });
      try {
        const { text, complete } = await fetchText(`${server.url}/chat`);
        expect({ text, complete }).toEqual({ text: 'ab', complete: false });
        expect(results[0]!.error).toMatchObject({ code: 'network' });
      } finally {
        await server.close();
      }
    });

    it("'ndjson': a final error line, then a clean end", async () => {
      const { server } = await setup('openai', { tokens: ['a', 'b', 'c'], errorAfter: { tokens: 1, type: 'server_error' } }, { protocol: 'ndjson' });
      try {
        const { text, complete } = await fetchText(`${server.url}/chat`);
        expect(complete).toBe(true);
        const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
        expect(lines.map((l) => l.type)).toEqual(['start', 'token', 'error']);
        expect(lines[2]).toMatchObject({ code: 'upstream_error', retryable: true });
      } finally {
        await server.close();
      }
    });

    it('a structured stream that ends without a finish reason is an incomplete (network, retryable) error', async () => {
      const chunks = [{ choices: [{ delta: { content: 'half' }, finish_reason: null }] }];
      const app = createApp(framework, (req, res, next) => void llmStream(req, res, chunks).catch(next));
      const server = await serve(app);
      try {
        const { json } = await fetchSSE(`${server.url}/chat`);
        expect(json('error')).toEqual([{ code: 'network', message: expect.stringMatching(/ended before/), retryable: true }]);
      } finally {
        await server.close();
      }
    });

    it('an onError that throws is contained: llmStream() still resolves, nothing reaches next(err)', async () => {
      const chunks = [{ choices: [{ delta: { content: 'half' }, finish_reason: null }] }];
      const settled: string[] = [];
      const app = createApp(framework, (req, res, next) => {
        llmStream(req, res, chunks, {
          onError: () => {
            throw new Error('logger down');
          },
        }).then(() => settled.push('resolved'), next);
      });
      const server = await serve(app);
      try {
        const { json } = await fetchSSE(`${server.url}/chat`);
        expect(json('error')).toHaveLength(1);
        while (!settled.length) await new Promise((r) => setTimeout(r, 5));
        expect(settled).toEqual(['resolved']);
        expect(app.errors).toEqual([]);
      } finally {
        await server.close();
      }
    });

    it('an onFinish that throws goes to onError; the process and the response are fine', async () => {
      const reported: unknown[] = [];
      const app = createApp(framework, (req, res, next) => {
        llmStream(req, res, ['ok'], {
          onFinish: () => {
            throw new Error('db down');
          },
          onError: (e) => void reported.push(e),
        }).catch(next);
      });
      const server = await serve(app);
      try {
        const { json } = await fetchSSE(`${server.url}/chat`);
        expect(json('done')).toHaveLength(1);
        expect(reported).toEqual([expect.objectContaining({ message: 'db down' })]);
      } finally {
        await server.close();
      }
    });
  });
});
