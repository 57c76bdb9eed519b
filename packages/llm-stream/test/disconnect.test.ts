import http from 'node:http';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicServer, openAIServer, type LLMTestServer } from '@sluice/testing';
import { llmStream, type LLMProtocol, type LLMResult } from '@sluice/llm-stream';
import { createApp, frameworks, serve } from './helpers.js';

/** POSTs with a raw http request and destroys it once `enough(text)` holds: a closed tab. */
function postAndLeave(url: string, enough: (text: string) => boolean): Promise<{ text: string; leftAt: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!enough(text)) return;
        const leftAt = performance.now();
        req.destroy();
        resolve({ text, leftAt });
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.setTimeout(5000, () => reject(new Error('no data in time')));
    req.end('{}');
  });
}

describe.each(frameworks)('client gone on %s', (_name, framework) => {
  let upstream: LLMTestServer;
  afterEach(() => upstream?.close());

  it.each<[string, LLMProtocol, (t: string) => boolean]>([
    ['sse', 'sse', (t) => t.includes('event: token')],
    ['openai', 'openai', (t) => t.includes('"content":"t')],
    ['ai-sdk', 'ai-sdk', (t) => t.includes('text-delta')],
    ['text', 'text', (t) => t.length > 0],
    ['ndjson', 'ndjson', (t) => t.includes('"token"')],
  ])("protocol '%s': the OpenAI upstream's socket closes within milliseconds; onFinish gets aborted: true and the text so far", async (_p, protocol, enough) => {
    upstream = await openAIServer({ tokens: Array.from({ length: 200 }, (_, i) => `t${i} `), delayMs: 10 });
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    let finished!: (r: LLMResult) => void;
    const result = new Promise<LLMResult>((resolve) => (finished = resolve));
    let lateWrites = 0;
    const app = createApp(framework, (req, res, next) => {
      // Observe (test only) whether anything is written once the client has left.
      let gone = false;
      res.once('close', () => (gone = true));
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      res.write = ((...args: unknown[]) => {
        if (gone) lateWrites++;
        return write(...args);
      }) as typeof res.write;
      llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
        protocol,
        onFinish: finished,
      }).catch(next);
    });
    const server = await serve(app);
    try {
      const { leftAt } = await postAndLeave(`${server.url}/chat`, enough);
      const upstreamRequest = await upstream.request(1);
      await upstreamRequest.closed;
      const delayMs = upstreamRequest.closedAt! - leftAt;
      // A generous bound for a loaded 2-core machine; the bench measures the real figure.
      expect(delayMs).toBeLessThan(1000);
      expect(upstreamRequest.aborted).toBe(true);
      expect(upstreamRequest.written).toBeLessThan(150);
      const r = await result;
      expect(r).toMatchObject({ aborted: true, cancelled: false, finishReason: undefined, error: undefined });
      expect(r.text).toMatch(/^t0 (t\d+ )*$/);
      expect(app.errors).toEqual([]);
      expect(lateWrites).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('an Anthropic SDK upstream is closed too, and a client gone before the first token never gets headers', async () => {
    upstream = await anthropicServer({ tokens: ['late'], firstTokenDelayMs: 2000 });
    const anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    let finished!: (r: LLMResult) => void;
    const result = new Promise<LLMResult>((resolve) => (finished = resolve));
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, (signal) => anthropic.messages.create({ model: 'm', max_tokens: 9, messages: [], stream: true }, { signal }), {
        onFinish: finished,
        waitForOutputMs: 5000,
      }).catch(next);
    });
    const server = await serve(app);
    try {
      const req = http.request(`${server.url}/chat`, { method: 'POST', agent: false });
      let gotResponse = false;
      req.on('response', () => (gotResponse = true)).on('error', () => {});
      req.end();
      const upstreamRequest = await upstream.request(1);
      req.destroy();
      await upstreamRequest.closed;
      expect(upstreamRequest.aborted).toBe(true);
      expect(await result).toMatchObject({ aborted: true, text: '' });
      expect(gotResponse).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('a plain async generator that ignores the signal is left at once and its finally block runs', async () => {
    let cleaned!: () => void;
    const cleanedUp = new Promise<void>((resolve) => (cleaned = resolve));
    let pulled = 0;
    async function* slow() {
      try {
        for (;;) {
          pulled++;
          yield 'x';
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        cleaned();
      }
    }
    let finished!: (r: LLMResult) => void;
    const result = new Promise<LLMResult>((resolve) => (finished = resolve));
    const app = createApp(framework, (req, res, next) => {
      llmStream(req, res, slow(), { onFinish: finished }).catch(next);
    });
    const server = await serve(app);
    try {
      await postAndLeave(`${server.url}/chat`, (t) => t.split('event: token').length > 3);
      const r = await result;
      expect(r.aborted).toBe(true);
      await cleanedUp;
      const at = pulled;
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(pulled).toBe(at);
    } finally {
      await server.close();
    }
  });
});
