import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { anthropicServer, openAIServer, type LLMTestServer } from '@sluice/testing';
import { llmStream, type LLMStreamOptions } from '@sluice/llm-stream';
import { createApp, fetchText, frameworks, serve } from './helpers.js';

/** Reads an 'ai-sdk' response the way `useChat` does: the AI SDK's own parser, schema and reader. */
async function readUIMessages(url: string): Promise<{ headers: Headers; chunks: UIMessageChunk[]; message: UIMessage | undefined }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const chunks: UIMessageChunk[] = [];
  const stream = parseJsonEventStream({ stream: response.body!, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error; // a chunk the AI SDK's schema rejects fails the test
        chunks.push(result.value as UIMessageChunk);
        controller.enqueue(result.value as UIMessageChunk);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream({ stream, terminateOnError: false })) message = snapshot;
  return { headers: response.headers, chunks, message };
}

describe.each(frameworks)('llmStream() protocols on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream?.close());

  function appFor(options: LLMStreamOptions, kind: 'openai' | 'anthropic' = 'openai') {
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    return createApp(framework, (req, res, next) => {
      const source =
        kind === 'openai'
          ? (signal: AbortSignal) =>
              openai.chat.completions.create({ model: 'gpt-up', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } }, { signal })
          : (signal: AbortSignal) => anthropic.messages.create({ model: 'claude-up', max_tokens: 9, messages: [], stream: true }, { signal });
      llmStream(req, res, source, options).catch(next);
    });
  }

  describe("'openai'", () => {
    it('is read by a second official OpenAI SDK client as if the route were OpenAI (Anthropic upstream)', async () => {
      upstream = await anthropicServer({ tokens: ['Hi', ' from', ' Claude'], reasoning: ['hmm'], usage: { input: 5, output: 3 } });
      const server = await serve(appFor({ protocol: 'openai' }, 'anthropic'));
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0 });
        const stream = await client.chat.completions.create({
          model: 'whatever',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        const chunks = [];
        for await (const chunk of stream) chunks.push(chunk);
        expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'claude-up')).toBe(true);
        expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
        const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
        expect(text).toBe('Hi from Claude');
        const reasoning = chunks.map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
        expect(reasoning).toBe('hmm');
        expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
        expect(chunks.at(-1)!.choices).toEqual([]);
        expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
      } finally {
        await server.close();
      }
    });

    it('passes tool calls in the OpenAI shape, so the SDK accumulates them', async () => {
      upstream = await anthropicServer({ tokens: [], toolCalls: [{ id: 'toolu_1', name: 'lookup', arguments: ['{"q":', '"x"}'] }] });
      const server = await serve(appFor({ protocol: 'openai' }, 'anthropic'));
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0 });
        // The SDK's own accumulator (ChatCompletionStream) rebuilds the final message from the deltas.
        const runner = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
        const final = await runner.finalChatCompletion();
        expect(final.choices[0]!.finish_reason).toBe('tool_calls');
        expect(final.choices[0]!.message.tool_calls).toEqual([
          { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
        ]);
      } finally {
        await server.close();
      }
    });

    it('sends no usage chunk unless the request asked for it', async () => {
      upstream = await openAIServer({ tokens: ['a'] });
      const server = await serve(appFor({ protocol: 'openai' }));
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0 });
        const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
        const chunks = [];
        for await (const chunk of stream) chunks.push(chunk);
        expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
        expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
      } finally {
        await server.close();
      }
    });
  });

  describe("'ai-sdk'", () => {
    it('is read by the AI SDK UI message stream reader: headers, text, reasoning and tool parts', async () => {
      upstream = await openAIServer({
        reasoning: ['think', 'ing'],
        tokens: ['Hello', ' AI SDK'],
        toolCalls: [{ id: 'call_9', name: 'search', arguments: ['{"q":"', 'sluice"}'] }],
      });
      const server = await serve(appFor({ protocol: 'ai-sdk' }));
      try {
        const { headers, chunks, message } = await readUIMessages(`${server.url}/chat`);
        expect(headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
        expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(chunks.map((c) => c.type)).toEqual([
          'start', 'start-step',
          'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end',
          'text-start', 'text-delta', 'text-delta', 'text-end',
          'tool-input-start', 'tool-input-delta', 'tool-input-delta', 'tool-input-available',
          'finish-step', 'finish',
        ]);
        expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'tool-calls' });
        expect(message!.parts).toEqual([
          { type: 'step-start' },
          expect.objectContaining({ type: 'reasoning', text: 'thinking', state: 'done' }),
          expect.objectContaining({ type: 'text', text: 'Hello AI SDK', state: 'done' }),
          expect.objectContaining({ type: 'tool-search', toolCallId: 'call_9', state: 'input-available', input: { q: 'sluice' } }),
        ]);
      } finally {
        await server.close();
      }
    });

    it('ends a mid-stream failure with an error part the reader reports', async () => {
      upstream = await openAIServer({ tokens: ['a', 'b', 'c'], errorAfter: { tokens: 2, type: 'server_error', message: 'boom' } });
      const server = await serve(appFor({ protocol: 'ai-sdk' }));
      try {
        const { chunks } = await readUIMessages(`${server.url}/chat`);
        expect(chunks.at(-1)).toEqual({ type: 'error', errorText: 'boom' });
        expect(chunks.filter((c) => c.type === 'text-delta')).toHaveLength(2);
      } finally {
        await server.close();
      }
    });
  });

  describe("'text' and 'ndjson'", () => {
    it("'text' sends only the text, with anti-buffering headers", async () => {
      upstream = await openAIServer({ tokens: ['plain', ' text'], reasoning: ['hidden'] });
      const server = await serve(appFor({ protocol: 'text' }));
      try {
        const { status, text, complete, headers } = await fetchText(`${server.url}/chat`);
        expect({ status, text, complete }).toEqual({ status: 200, text: 'plain text', complete: true });
        expect(headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(headers.get('cache-control')).toBe('no-cache');
        expect(headers.get('x-accel-buffering')).toBe('no');
        expect(headers.get('x-generation-id')).toMatch(/^[0-9a-f-]{36}$/);
      } finally {
        await server.close();
      }
    });

    it("'ndjson' sends one JSON object per line, the 'sse' events with a type", async () => {
      upstream = await anthropicServer({ tokens: ['x', 'y'], usage: { input: 1, output: 2 } });
      const server = await serve(appFor({ protocol: 'ndjson' }, 'anthropic'));
      try {
        const { text, headers } = await fetchText(`${server.url}/chat`);
        expect(headers.get('content-type')).toBe('application/x-ndjson');
        const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
        expect(lines).toEqual([
          { type: 'start', id: headers.get('x-generation-id') },
          { type: 'token', text: 'x' },
          { type: 'token', text: 'y' },
          { type: 'done', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, characters: 2 },
        ]);
      } finally {
        await server.close();
      }
    });
  });
});
