import OpenAI from 'openai';
import { KeepaliveScheduler } from '@sluice/sse-keepalive';
import { openAIServer, type LLMTestServer } from '@sluice/testing';
import { llmStream, type LLMStreamOptions } from '@sluice/llm-stream';
import { createApp, fetchSSE, frameworks, serve } from './helpers.js';

describe.each(frameworks)('slow first token on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream.close());

  async function setup(firstTokenDelayMs: number, options: LLMStreamOptions) {
    upstream = await openAIServer({ tokens: ['late', ' answer'], firstTokenDelayMs });
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), options).catch(next);
    });
    return serve(app);
  }

  it('opens after waitForOutputMs (start with the id) and writes keep-alive comments until the first token', async () => {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
    const server = await setup(600, { waitForOutputMs: 50, keepaliveMs: 100, scheduler });
    try {
      const t0 = Date.now();
      const { events, comments, text } = await fetchSSE(`${server.url}/chat`);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
      expect(events.map((e) => e.event)).toEqual(['start', 'token', 'token', 'done']);
      expect(comments.length).toBeGreaterThanOrEqual(2);
      // Comments come between `start` and the first token.
      expect(text.indexOf(': ping')).toBeGreaterThan(text.indexOf('event: start'));
      expect(text.lastIndexOf(': ping')).toBeLessThan(text.indexOf('event: token'));
      expect(scheduler.size).toBe(0);
      expect(scheduler.running).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('keepaliveMs: 0 writes no comments; a fast model answers without any', async () => {
    const server = await setup(300, { waitForOutputMs: 20, keepaliveMs: 0 });
    try {
      const { events, comments } = await fetchSSE(`${server.url}/chat`);
      expect(events.map((e) => e.event)).toEqual(['start', 'token', 'token', 'done']);
      expect(comments).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
