import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { LLMStreamError, llmStream, toLLMStreamError } from '@sluice/llm-stream';
import { createApp, fetchSSE, frameworks, serve } from './helpers.js';

describe('toLLMStreamError()', () => {
  it.each<[string, unknown, string, boolean]>([
    ['openai RateLimitError', new OpenAI.RateLimitError(429, { message: 'slow down' }, undefined, new Headers()), 'rate_limited', true],
    ['openai APIConnectionTimeoutError', new OpenAI.APIConnectionTimeoutError(), 'timeout', true],
    ['openai APIConnectionError', new OpenAI.APIConnectionError({ message: 'Connection error.' }), 'network', true],
    ['openai InternalServerError', new OpenAI.InternalServerError(500, undefined, undefined, new Headers()), 'upstream_error', true],
    ['anthropic OverloadedError (529)', new Anthropic.APIError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, new Headers()), 'overloaded', true],
    ['anthropic mid-stream error (no status)', new Anthropic.APIError(undefined, { type: 'error', error: { type: 'api_error', message: 'x' } }, undefined, undefined, 'api_error'), 'upstream_error', true],
    ['AbortSignal.timeout()', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout', true],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network', true],
    ["undici 'terminated'", new TypeError('terminated'), 'network', true],
    ['a bug in the route', new Error('x is undefined'), 'internal', false],
    ['a thrown string', 'nope', 'internal', false],
  ])('%s → %s', (_label, error, code, retryable) => {
    const mapped = toLLMStreamError(error);
    expect(mapped).toBeInstanceOf(LLMStreamError);
    expect(mapped).toMatchObject({ name: 'LLMStreamError', code, retryable, cause: error });
  });

  it('reads Retry-After (seconds or HTTP date) into retryAfterMs and a Retry-After header', () => {
    const seconds = toLLMStreamError(new OpenAI.RateLimitError(429, undefined, undefined, new Headers({ 'retry-after': '3' })));
    expect(seconds).toMatchObject({ retryAfterMs: 3000, headers: { 'Retry-After': '3' }, status: 429 });
    const date = new Date(Date.now() + 10_000).toUTCString();
    const dated = toLLMStreamError(new OpenAI.RateLimitError(429, undefined, undefined, new Headers({ 'retry-after': date })));
    expect(dated.retryAfterMs).toBeGreaterThan(5000);
    expect(toLLMStreamError(new Error('x')).headers).toBeUndefined();
  });

  it('uses the body message, and hides internal and credential messages from clients', () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    expect(toLLMStreamError(new Anthropic.APIError(undefined, body, undefined, undefined)).message).toBe('Overloaded');
    expect(toLLMStreamError(new Error('password=hunter2')).message).not.toContain('hunter2');
    const auth = new OpenAI.AuthenticationError(401, { message: 'Incorrect API key provided: sk-abc' }, undefined, new Headers());
    expect(toLLMStreamError(auth)).toMatchObject({ code: 'upstream_auth', status: 502 });
    expect(toLLMStreamError(auth).message).not.toContain('sk-');
  });
});

describe.each(frameworks)('raw event sources on %s', (_name, framework) => {
  it('an Anthropic `error` event object mid-stream becomes an `error` event; OpenAI `delta.reasoning` is reasoning', async () => {
    const anthropicEvents = [
      { type: 'message_start', message: { model: 'c', usage: { input_tokens: 1 } } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } },
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    ];
    const openaiChunks = [
      { choices: [{ delta: { role: 'assistant', reasoning: 'r1' }, finish_reason: null }] },
      { choices: [{ delta: { content: 'ok' }, finish_reason: 'content_filter' }] },
    ];
    const app = createApp(framework, (req, res, next) => {
      void llmStream(req, res, req.query.kind === 'openai' ? openaiChunks : anthropicEvents).catch(next);
    });
    const server = await serve(app);
    try {
      const a = await fetchSSE(`${server.url}/chat`);
      expect(a.events.map((e) => e.event)).toEqual(['start', 'token', 'error']);
      expect(a.json('error')[0]).toEqual({ code: 'overloaded', message: 'Overloaded', retryable: true });
      const o = await fetchSSE(`${server.url}/chat?kind=openai`);
      expect(o.json('reasoning')).toEqual([{ text: 'r1' }]);
      expect(o.json('done')[0]).toMatchObject({ finishReason: 'content_filter', characters: 2 });
    } finally {
      await server.close();
    }
  });
});
