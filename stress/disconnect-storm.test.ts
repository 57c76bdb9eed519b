// Disconnect storm: for each package, many clients drop at random points mid-stream; afterwards no
// timer, socket, listener, subscription or generator may be left behind, and every LLM upstream
// request must have been aborted.
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import express4 from 'express4';
import OpenAI from 'openai';
import { listen, openAIServer } from '@sluice/testing';
import { sse } from '@sluice/sse-encoder';
import { keepalive, KeepaliveScheduler } from '@sluice/sse-keepalive';
import { MemoryEventStore, publish, resume } from '@sluice/sse-resume';
import { streamRoute } from '@sluice/stream-generator';
import { NDJSONAbortedError, ndjsonBody, ndjsonResponse } from '@sluice/ndjson';
import { createCancelRegistry, llmStream, type LLMProtocol } from '@sluice/llm-stream';
import { connections, grown, listenerTracker, resources, settle, timerTracker } from './support/leaks';
import { dropClient, randomPlan, rng, SEED, storm, type ClientOptions, type Outcome } from './support/storm';

jest.setTimeout(120_000);

const CONCURRENCY = 100;
const pad = 'x'.repeat(200);

/** What a scenario sets up: the app, how clients hit it, and its own leak counters. */
interface Scenario {
  app: express.Express;
  path: (i: number) => string;
  maxBytes: number;
  maxMs: number;
  client?: (i: number) => ClientOptions;
  /** Runs once, fully, before the baseline is taken (lazy singletons, connection pools). */
  warmUp?: (url: string) => Promise<void>;
  /** Package-specific counters; each non-empty string is a leak. */
  problems: () => string[];
  /** How many clients really left mid-stream (default: those that got part of a body). */
  midStream?: (tally: Record<Outcome, number>) => number;
  /** Extra figures for the summary line. */
  figures: () => string;
  stop?: () => Promise<void> | void;
}

type Framework = typeof express;
const frameworks: Array<[string, Framework, number]> = [
  ['express 5', express, 1000],
  ['express 4', express4 as unknown as Framework, 300],
];

/** started/finished counters for handlers and generators: `finally` must run once per start. */
function counter() {
  const c = { started: 0, finished: 0, problem: (what: string) => (c.started === c.finished ? '' : `${what}: ${c.started} started, ${c.finished} finished`) };
  return c;
}

const scenarios: Record<string, (fw: Framework, track: express.RequestHandler) => Promise<Scenario>> = {
  async 'sse-encoder sse()'(fw, track) {
    const loops = counter();
    const app = fw();
    app.get('/sse', track, sse({ retryMs: 1000 }), async (req, res) => {
      const stream = res.sse!;
      loops.started++;
      try {
        for (let i = 0; !stream.closed; i++) {
          await stream.send({ id: i, data: pad });
          if (i % 10 === 9) await sleep(1, undefined, { signal: stream.signal }).catch(() => {});
        }
      } finally {
        loops.finished++;
      }
    });
    return { app, path: () => '/sse', maxBytes: 64 * 1024, maxMs: 300, problems: () => [loops.problem('send loops')], figures: () => `${loops.started} send loops` };
  },

  async 'sse-keepalive keepalive()'(fw, track) {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
    const loops = counter();
    const app = fw();
    // Pings alone keep the stream busy; a second route mixes the app's events with pings.
    app.get('/ka', track, keepalive({ intervalMs: 10, scheduler }));
    app.get('/ka-events', track, keepalive({ intervalMs: 10, idleTimeoutMs: 5000, scheduler }), async (req, res) => {
      const stream = res.sse!;
      loops.started++;
      try {
        while (!stream.closed) {
          await stream.send('tick');
          await sleep(5 + Math.floor(Math.random() * 20), undefined, { signal: stream.signal }).catch(() => {});
        }
      } finally {
        loops.finished++;
      }
    });
    return {
      app, path: (i) => (i % 2 ? '/ka' : '/ka-events'), maxBytes: 300, maxMs: 400,
      problems: () => [
        scheduler.size === 0 ? '' : `KeepaliveScheduler.size = ${scheduler.size}`,
        scheduler.running ? 'KeepaliveScheduler timer still armed' : '',
        loops.problem('event loops'),
      ],
      figures: () => `scheduler.size ${scheduler.size}, running ${scheduler.running}`,
    };
  },

  async 'sse-resume resume()'(fw, track) {
    const store = new MemoryEventStore({ maxEvents: 500 });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await publish(store, 'news', { data: { i, pad } }));
    const deploy = new AbortController();
    const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
    const handler = resume({ store, stream: 'news', retryMs: 1000, signal: deploy.signal, history: 'all' });
    const signalListeners = getEventListeners(deploy.signal, 'abort').length;
    const app = fw();
    app.get('/feed', track, handler);
    app.get('/feed-ka', track, keepalive({ intervalMs: 20, scheduler }), handler);
    // Live events arrive while clients replay and follow; the publisher is our own timer, stopped
    // before counting.
    let published = 0;
    const publisher = setInterval(() => void publish(store, 'news', { data: { live: published++, pad } }), 2);
    return {
      app, path: (i) => (i % 2 ? '/feed' : '/feed-ka'), maxBytes: 80 * 1024, maxMs: 400,
      // Half resume from a random past id (replay + live), half start fresh (all history).
      client: (i) => (i % 3 === 0 ? {} : { headers: { 'Last-Event-ID': ids[i % ids.length]! } }),
      problems: () => [
        store.subscriberCount() === 0 ? '' : `MemoryEventStore.subscriberCount() = ${store.subscriberCount()}`,
        handler.size === 0 ? '' : `resume().size = ${handler.size}`,
        scheduler.size === 0 ? '' : `KeepaliveScheduler.size = ${scheduler.size}`,
        getEventListeners(deploy.signal, 'abort').length === signalListeners ? '' : `shutdown signal listeners ${signalListeners} → ${getEventListeners(deploy.signal, 'abort').length}`,
      ],
      figures: () => `${published} live events published, subscribers ${store.subscriberCount()}, resume().size ${handler.size}`,
      stop: () => clearInterval(publisher),
    };
  },

  async 'stream-generator streamRoute()'(fw, track) {
    const gens = counter();
    const app = fw();
    app.get('/async', track, streamRoute(async function* (req, signal) {
      gens.started++;
      try {
        for (let i = 0; ; i++) {
          yield `${i},${pad}\n`;
          if (i % 20 === 19) await sleep(1, undefined, { signal });
        }
      } finally {
        gens.finished++;
      }
    }, { contentType: 'text/csv', onError: () => {} }));
    app.get('/sync', track, streamRoute(() => (function* () {
      gens.started++;
      try {
        for (let i = 0; ; i++) yield `${i},${pad}\n`;
      } finally {
        gens.finished++;
      }
    })(), { contentType: 'text/csv', onError: () => {} }));
    return { app, path: (i) => (i % 2 ? '/async' : '/sync'), maxBytes: 512 * 1024, maxMs: 300, problems: () => [gens.problem('generators')], figures: () => `${gens.started} generators, ${gens.finished} finally` };
  },

  async 'ndjson ndjsonResponse()'(fw, track) {
    const gens = counter();
    const app = fw();
    async function* rows(signal?: AbortSignal) {
      gens.started++;
      try {
        for (let i = 0; ; i++) {
          yield { i, name: `user_${i}`, pad };
          if (i % 50 === 49) await sleep(1, undefined, signal ? { signal } : {});
        }
      } finally {
        gens.finished++;
      }
    }
    app.get('/rows', track, ndjsonResponse({ onError: () => {} }), (req, res) => void res.ndjson!(rows()));
    app.get('/rows-fn', track, ndjsonResponse({ onError: () => {} }), (req, res) => void res.ndjson!((signal) => rows(signal)));
    return { app, path: (i) => (i % 2 ? '/rows' : '/rows-fn'), maxBytes: 256 * 1024, maxMs: 300, problems: () => [gens.problem('generators')], figures: () => `${gens.started} generators, ${gens.finished} finally` };
  },

  async 'ndjson ndjsonBody()'(fw, track) {
    const handlers = counter();
    const endings: Record<string, number> = {};
    const app = fw();
    app.post('/import', track, ndjsonBody(), async (req, res) => {
      handlers.started++;
      let n = 0;
      try {
        for await (const _ of req.ndjson!()) n++;
        res.json({ n });
      } catch (error) {
        const name = error instanceof NDJSONAbortedError ? error.code : String(error);
        endings[name] = (endings[name] ?? 0) + 1;
      } finally {
        handlers.finished++;
      }
    });
    // The client uploads lines on a timer and is cut at a random point of its upload.
    const upload: ClientOptions['upload'] = (req) => {
      let i = 0;
      const timer = setInterval(() => {
        req.write(Array.from({ length: 20 }, () => JSON.stringify({ i: i++, pad })).join('\n') + '\n');
      }, 2);
      req.once('close', () => clearInterval(timer));
    };
    return {
      app, path: () => '/import', maxBytes: Infinity, maxMs: 300,
      client: () => ({ method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, upload }),
      problems: () => [handlers.problem('upload handlers')],
      midStream: () => endings.NDJSON_ABORTED ?? 0,
      figures: () => `${handlers.started} uploads, endings ${JSON.stringify(endings)}`,
    };
  },

  async 'llm-stream llmStream()'(fw, track) {
    // Longer than any client stays (5,000 tokens ≥ 5 s), so every upstream request must end aborted.
    const long = { tokens: Array.from({ length: 5000 }, (_, i) => `tok${i} `), delayMs: 1 };
    const upstream = await openAIServer((body, index) => (index === 0 ? { tokens: ['warm', 'up'] } : long));
    const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'test', maxRetries: 0 });
    const registry = createCancelRegistry();
    const scheduler = new KeepaliveScheduler({ resolutionMs: 10 });
    const protocols: LLMProtocol[] = ['sse', 'openai', 'ai-sdk', 'text', 'ndjson'];
    const gens = counter();
    let aborted = 0;
    let firstRequest = 0;
    const app = fw();
    app.post('/chat', track, fw.json(), (req, res, next) => {
      gens.started++;
      llmStream(req, res, (signal) => openai.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal }), {
        protocol: protocols[Number(req.query.p ?? 0)]!,
        registry,
        scheduler,
        waitForOutputMs: 0,
        keepaliveMs: 50,
        onFinish: (r) => {
          gens.finished++;
          if (r.aborted) aborted++;
        },
        onError: () => {},
      }).catch(next);
    });
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
    const client = (): ClientOptions => ({ method: 'POST', headers: { 'content-type': 'application/json' }, upload: (req) => req.end(body) });
    return {
      // Generous times: a generation's headers wait for the upstream's first chunk, slow on a busy machine.
      app, path: (i) => `/chat?p=${i % protocols.length}`, maxBytes: 4096, maxMs: 1000, client,
      async warmUp(url) {
        // One complete generation first: the SDK's connection pool and timers exist before the baseline.
        await dropClient(`${url}/chat`, { bytes: Infinity, ms: 30_000 }, client());
        firstRequest = upstream.requests.length;
        gens.started = gens.finished = 0;
      },
      problems() {
        const stormRequests = upstream.requests.slice(firstRequest);
        const open = stormRequests.filter((r) => r.closedAt === undefined).length;
        const completed = stormRequests.filter((r) => r.closedAt !== undefined && !r.aborted).length;
        return [
          gens.problem('generations (onFinish)'),
          registry.size === 0 ? '' : `cancel registry size = ${registry.size}`,
          scheduler.size === 0 ? '' : `KeepaliveScheduler.size = ${scheduler.size}`,
          open === 0 ? '' : `${open} upstream requests still open`,
          completed === 0 ? '' : `${completed} upstream requests ran to completion (never aborted)`,
        ];
      },
      figures: () => `${gens.started} generations, ${upstream.requests.length - firstRequest} upstream requests all aborted, onFinish aborted ${aborted}`,
      stop: () => upstream.close(),
    };
  },
};

/** Runs one storm against a scenario; returns the leaks found after the grace period. */
async function runStorm(fwName: string, fw: Framework, name: string, clients: number, make: (fw: Framework, track: express.RequestHandler) => Promise<Scenario>) {
  const tracker = listenerTracker();
  const timers = timerTracker();
  const scenario = await make(fw, tracker.middleware);
  const server = await listen(scenario.app);
  try {
    await scenario.warmUp?.(server.url);
    const before = resources();
    const timers0 = timers.live;
    const random = rng(SEED);
    const started = Date.now();
    const tally: Record<Outcome, number> = await storm(clients, CONCURRENCY, (i) =>
      dropClient(server.url + scenario.path(i), randomPlan(random, scenario.maxBytes, scenario.maxMs), scenario.client?.(i)),
    );
    const stormMs = Date.now() - started;
    await scenario.stop?.();
    const problems = await settle(async () => {
      const handles = grown(before);
      const open = await connections(server.server);
      return [
        ...Object.entries(handles).map(([kind, n]) => `${n} more ${kind} than before the storm`),
        open === 0 ? '' : `server.getConnections() = ${open}`,
        timers.live <= timers0 ? '' : `${timers.live - timers0} more live (incl. unref'd) timers than before the storm`,
        ...tracker.leftovers(),
        ...scenario.problems(),
      ].filter(Boolean);
    });
    console.log(
      `[stress] storm ${fwName} ${name}: ${clients} clients (seed ${SEED}) in ${stormMs} ms, ` +
        `${tracker.count} responses tracked, dropped ${tally['mid-body']} mid-body / ${tally['before-response']} before headers / ` +
        `${tally['server-ended']} ended by server; leaks: handles ${JSON.stringify(grown(before))}, ` +
        `timers ${timers.live - timers0}, connections ${await connections(server.server)}, listeners ${tracker.leftovers().length}; ${scenario.figures()}`,
    );
    return { problems, tally, midStream: scenario.midStream?.(tally) ?? tally['mid-body'] };
  } finally {
    timers.restore();
    await scenario.stop?.();
    await server.close();
  }
}

describe.each(frameworks)('disconnect storm on %s', (fwName, fw, clients) => {
  it.each(Object.keys(scenarios))('%s: no leaked timer, socket, listener, subscription or generator', async (name) => {
    const { problems, tally, midStream } = await runStorm(fwName, fw, name, clients, scenarios[name]!);
    expect(problems).toEqual([]);
    // The storm must really have been mid-stream: many clients got part of a body and left (a
    // quarter at least; about two thirds on an idle machine).
    expect(midStream).toBeGreaterThan(clients / 4);
    expect(tally.error).toBe(0);
  });
});

// The counters above must be able to fail: a deliberately leaky route is caught by each of them.
it('a leaky route is caught: unref\'d timer, socket listener, unfinished generator', async () => {
  const leaky = async (fw: Framework, track: express.RequestHandler): Promise<Scenario> => {
    const gens = counter();
    const app = fw();
    const leakListener: express.RequestHandler = (req, res, next) => {
      req.socket.on('timeout', () => {}); // never removed
      next();
    };
    app.get('/leak', track, leakListener, streamRoute(async function* () {
      gens.started++;
      setInterval(() => {}, 60_000).unref(); // never cleared
      yield 'x'.repeat(1024);
      await new Promise(() => {}); // parked forever: its finally never runs
      gens.finished++;
    }, { contentType: 'text/plain', onError: () => {} }));
    return { app, path: () => '/leak', maxBytes: 512, maxMs: 200, problems: () => [gens.problem('generators')], figures: () => '' };
  };
  const { problems } = await runStorm('express 5', express, 'leaky canary', 50, leaky);
  expect(problems.some((p) => p.includes('timers'))).toBe(true);
  expect(problems.some((p) => p.startsWith('generators'))).toBe(true);
  expect(problems.some((p) => p.startsWith("socket 'timeout'"))).toBe(true);
}, 30_000);
