import { spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { RedisEventStore } from '@sluice/sse-resume/redis';
import { openAIServer, type LLMTestServer } from '@sluice/testing';
import { cancelGeneration, llmStream, resumeGeneration, type LLMResult } from '@sluice/llm-stream';
import { createApp, frameworks, parseSSE, serve, startStream, terminalsOf, tokensOf, until, expectCancelled, type Factory } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRED = process.env.SLUICE_REQUIRE_SERVICES === '1';

/** Checked synchronously (in a child process) so the suite can choose describe or describe.skip at load time. */
function redisReachable(): boolean {
  const script = `const { Redis } = require('ioredis');
    const r = new Redis(process.argv[1], { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
    r.on('error', () => {});
    r.connect().then(() => r.ping()).then(() => process.exit(0), () => process.exit(1));`;
  const reachable = spawnSync(process.execPath, ['-e', script, REDIS_URL], { timeout: 5000 }).status === 0;
  if (!reachable && !REQUIRED) {
    console.warn(`\n!!! Redis is not reachable at ${REDIS_URL}: SKIPPING the resumable-generation Redis tests.\n!!! Start one or set REDIS_URL; CI sets SLUICE_REQUIRE_SERVICES=1 and fails instead.\n`);
  }
  return reachable;
}

const reachable = redisReachable();
const describeRedis = reachable || REQUIRED ? describe : describe.skip;

const TOKENS = Array.from({ length: 40 }, (_, i) => `t${i}${i % 7 === 0 ? '\n' : ' '}`);

describeRedis('a resumable generation across two instances sharing one Redis', () => {
  describe.each(frameworks)('A on %s', (_name, framework) => {
    const other = framework === frameworks[0]![1] ? frameworks[1]![1] : frameworks[0]![1];
    let upstream: LLMTestServer;
    let prefix: string;
    const clients: Redis[] = [];
    const stores: RedisEventStore[] = [];

    beforeEach(async () => {
      upstream = await openAIServer({ tokens: TOKENS, delayMs: 15 });
      prefix = `sluice-test:llm:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
    });
    afterEach(async () => {
      await upstream.close();
      for (const store of stores.splice(0)) await store.close();
      const admin = clients[0];
      if (admin) {
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          if (keys.length > 0) await admin.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      await Promise.all(clients.splice(0).map((client) => client.quit()));
    });

    /** One instance: its own Redis client and store, the chat route and the reconnect route. */
    async function instance(factory: Factory, results: LLMResult[]) {
      const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
      client.on('error', () => {});
      clients.push(client);
      const store = new RedisEventStore(client, { prefix });
      stores.push(store);
      const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
      const app = createApp(
        factory,
        (req, res, next) => {
          const source = (signal: AbortSignal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal });
          llmStream(req, res, source, { resume: { store }, waitForOutputMs: 0, onFinish: (r) => void results.push(r) }).catch(next);
        },
        (app) => {
          app.get('/chat/:id/stream', resumeGeneration({ store }));
          app.post('/stop/:id', cancelGeneration({ store }));
        },
      );
      return serve(app);
    }

    /** Instance A (this framework) and B (the other one) on one Redis; a generation started on A, `minTokens` in. */
    async function startOnA(minTokens: number) {
      const results: LLMResult[] = [];
      const a = await instance(framework, results);
      const b = await instance(other, []);
      try {
        const stream = await startStream(`${a.url}/chat`);
        const upstreamRequest = await upstream.request(1);
        await until(() => tokensOf(parseSSE(stream.text)).length >= minTokens);
        return { results, a, b, stream, upstreamRequest };
      } catch (error) {
        await Promise.all([a.close(), b.close()]);
        throw error;
      }
    }

    it('started on A, the client drops, reconnects to B with Last-Event-ID: the reassembled text equals the upstream text', async () => {
      const { results, a, b, stream, upstreamRequest } = await startOnA(5);
      try {
        const before = parseSSE(stream.text);
        await stream.leave();
        const response = await fetch(`${b.url}/chat/${stream.id}/stream`, { headers: { 'last-event-id': before.at(-1)!.id! } });
        expect(response.status).toBe(200);
        const after = parseSSE(await response.text());
        expect(terminalsOf(after)).toEqual(['done']);
        expect(after.at(-1)!.event).toBe('done');
        expect(after.some((e) => e.event === 'reset')).toBe(false);
        expect([...tokensOf(before), ...tokensOf(after)].join('')).toBe(TOKENS.join(''));
        await until(() => results.length === 1);
        expect(results[0]).toMatchObject({ aborted: false, text: TOKENS.join('') });
        expect(upstreamRequest.aborted).toBe(false);
        const unknown = await fetch(`${b.url}/chat/not-a-generation/stream`);
        expect(unknown.status).toBe(404);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a cancel through B stops the generation running on A: `cancelled`, upstream aborted', async () => {
      const { results, a, b, stream, upstreamRequest } = await startOnA(3);
      try {
        const stop = await fetch(`${b.url}/stop/${stream.id}`, { method: 'POST' });
        expect(stop.status).toBe(202);
        await expectCancelled(stream.rest, upstreamRequest, results);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
