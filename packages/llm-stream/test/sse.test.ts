import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicServer, openAIServer, type LLMTestServer } from '@sluice/testing';
import { llmStream, type LLMResult } from '@sluice/llm-stream';
import { createApp, fetchSSE, frameworks, serve } from './helpers.js';

describe.each(frameworks)("llmStream() protocol 'sse' on %s", (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream?.close());

  it('streams an OpenAI SDK stream as start, token…, done (read by eventsource-parser)', async () => {
    upstream = await openAIServer({ tokens: ['Hel', 'lo', ' there'], delayMs: 5 });
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const finished: LLMResult[] = [];
    const app = createApp(framework, (req, res, next) => {
      llmStream(
        req,
        res,
        (signal) =>
          openai.chat.completions.create(
            { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
            { signal },
          ),
        { onFinish: (r) => void finished.push(r) },
      ).catch(next);
    });
    const server = await serve(app);
    try {
      const { response, events, json } = await fetchSSE(`${server.url}/chat`);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      expect(events.map((e) => e.event)).toEqual(['start', 'token', 'token', 'token', 'done']);
      const [start] = json('start');
      expect(start.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('x-generation-id')).toBe(start.id);
      expect(json('token').map((t) => t.text).join('')).toBe('Hello there');
      expect(json('done')).toEqual([
        { finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 }, characters: 11 },
      ]);
      expect(finished).toEqual([expect.objectContaining({ id: start.id, text: 'Hello there', aborted: false, cancelled: false, finishReason: 'stop' })]);
    } finally {
      await server.close();
    }
  });

  it('streams an Anthropic SDK stream, with thinking as reasoning events', async () => {
    upstream = await anthropicServer({ tokens: ['Bon', 'jour'], reasoning: ['Let me ', 'think'], usage: { input: 7, output: 2 } });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, (signal) =>
        anthropic.messages.create({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal }),
      ).catch(next);
    });
    const server = await serve(app);
    try {
      const { events, json } = await fetchSSE(`${server.url}/chat`);
      expect(events.map((e) => e.event)).toEqual(['start', 'reasoning', 'reasoning', 'token', 'token', 'done']);
      expect(json('reasoning').map((t) => t.text).join('')).toBe('Let me think');
      expect(json('done')[0]).toEqual({ finishReason: 'stop', usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 }, characters: 7 });
    } finally {
      await server.close();
    }
  });

  it.each([
    ['OpenAI', openAIServer],
    ['Anthropic', anthropicServer],
  ] as const)('streams %s tool-call argument fragments and reports the complete calls', async (_label, start) => {
    upstream = await start({ tokens: ['Checking'], toolCalls: [{ id: 'call_1', name: 'weather', arguments: ['{"city":', '"Paris"}'] }] });
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const app = createApp(framework, (req, res, next) => {
      const source =
        start === openAIServer
          ? (signal: AbortSignal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal })
          : (signal: AbortSignal) => anthropic.messages.create({ model: 'm', max_tokens: 9, messages: [], stream: true }, { signal });
      llmStream(req, res, source).catch(next);
    });
    const server = await serve(app);
    try {
      const { json } = await fetchSSE(`${server.url}/chat`);
      expect(json('tool-call-start')).toEqual([{ index: 0, id: 'call_1', name: 'weather' }]);
      expect(json('tool-call-delta').map((d) => d.args)).toEqual(['{"city":', '"Paris"}']);
      expect(json('done')[0]).toMatchObject({
        finishReason: 'tool_calls',
        toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }],
      });
    } finally {
      await server.close();
    }
  });

  it('streams any AsyncIterable<string>, and raw event objects without an SDK', async () => {
    async function* words() {
      yield 'one ';
      yield '';
      yield 'two';
    }
    const raw = [
      { type: 'message_start', message: { model: 'x', usage: { input_tokens: 1 } } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'raw' } },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 1 } },
      { type: 'message_stop' },
    ];
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, req.query.raw ? raw : words()).catch(next);
    });
    const server = await serve(app);
    try {
      const plain = await fetchSSE(`${server.url}/chat`);
      expect(plain.json('token').map((t) => t.text)).toEqual(['one ', 'two']);
      expect(plain.json('done')[0]).toEqual({ finishReason: 'stop', usage: null, characters: 7 });
      const events = await fetchSSE(`${server.url}/chat?raw=1`);
      expect(events.json('token')).toEqual([{ text: 'raw' }]);
      // finish_reason `length` is a finish, told apart from a natural stop.
      expect(events.json('done')[0]).toMatchObject({ finishReason: 'length' });
    } finally {
      await server.close();
    }
  });

  it("accepts Anthropic's MessageStream helper (messages.stream()) and leaves no listener on the response", async () => {
    upstream = await anthropicServer({ tokens: ['via', ' helper'] });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const counts: Array<[string, number, number]> = [];
    const app = createApp(framework, (req, res, next) => {
      const before = ['close', 'finish', 'drain', 'error'].map((e) => res.listenerCount(e));
      res.on('close', () =>
        setImmediate(() => {
          // After the response is over, only what was there before (plus our own probe) remains.
          ['close', 'finish', 'drain', 'error'].forEach((e, i) => counts.push([e, before[i]! + (e === 'close' ? 1 : 0), res.listenerCount(e)]));
        }),
      );
      llmStream(req, res, anthropic.messages.stream({ model: 'm', max_tokens: 9, messages: [] })).catch(next);
    });
    const server = await serve(app);
    try {
      const { json } = await fetchSSE(`${server.url}/chat`);
      expect(json('token').map((t) => t.text).join('')).toBe('via helper');
      while (counts.length < 4) await new Promise((r) => setTimeout(r, 5));
      for (const [, before, after] of counts) expect(after).toBeLessThanOrEqual(before);
    } finally {
      await server.close();
    }
  });
});
