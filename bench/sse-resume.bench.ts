// @sluice/sse-resume: broadcast fan-out against a hand-written res.write loop and better-sse's
// Channel (clients in a child process so their parsing does not share the server's core), and
// the replay of 10,000 missed events from MemoryEventStore against the seed's replay loop.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Response } from 'express';
import { createChannel, createSession } from 'better-sse';
import { MemoryEventStore, resume } from '@sluice/sse-resume';
import { listen, median, report } from './lib.js';

const CLIENTS = 1000;
const EVENTS = 1000;
const BATCH = Number(process.env.SLUICE_BENCH_BATCH ?? 10); // events published per event-loop turn
const RUNS = Number(process.env.SLUICE_BENCH_RUNS ?? 1); // timed fan-out runs after the warm-up
const PAYLOAD = JSON.stringify({ symbol: 'SLCE', price: 101.25, volume: 1200, note: 'x'.repeat(40) });
const turn = () => new Promise((r) => setImmediate(r));

// ---- child: CLIENTS raw connections, each done when it has seen the END marker ----
if (process.argv[2] === '--clients') {
  const [url, n] = [process.argv[3]!, Number(process.argv[4])];
  let ready = 0;
  let done = 0;
  const sockets: http.ClientRequest[] = [];
  for (let i = 0; i < n; i++) {
    const req = http.get(url, { agent: false }, (res) => {
      let tail = '';
      res.setEncoding('latin1');
      if (++ready === n) process.send!('ready');
      res.on('data', (chunk: string) => {
        if ((tail + chunk).includes('END')) {
          tail = '\n';
          if (++done === n) process.send!('done');
        } else tail = chunk.slice(-2);
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    sockets.push(req);
  }
  process.on('message', (m) => {
    if (m === 'reset') done = 0;
    if (m === 'exit') {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
} else {
  await main();
}

interface Impl {
  name: string;
  app: express.Express;
  subscribers(): number;
  publish(i: number, data: string): void;
}

function sluice(): Impl {
  const store = new MemoryEventStore({ maxEvents: EVENTS });
  const app = express();
  app.get('/feed', resume({ store, stream: 'bench', history: 'none' }));
  return { name: 'Sluice resume()', app, subscribers: () => store.subscriberCount('bench'), publish: (_i, data) => void store.append('bench', { data }) };
}

function handWritten(): Impl {
  const clients = new Set<Response>();
  const app = express();
  app.get('/feed', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  return {
    name: 'res.write loop',
    app,
    subscribers: () => clients.size,
    publish(i, data) {
      const frame = `id: ${i}\ndata: ${data}\n\n`; // formatted once, written per client
      for (const res of clients) res.write(frame);
    },
  };
}

function betterSse(): Impl {
  const channel = createChannel();
  const app = express();
  app.get('/feed', async (req, res) => {
    channel.register(await createSession(req, res, { keepAlive: null, serializer: String }));
  });
  return { name: 'better-sse Channel', app, subscribers: () => channel.sessionCount, publish: (i, data) => channel.broadcast(data, 'message', { eventId: String(i) }) };
}

async function fanOut(impl: Impl): Promise<number> {
  const server = await listen(impl.app);
  const child = fork(fileURLToPath(import.meta.url), ['--clients', `${server.url}/feed`, String(CLIENTS)], {
    execArgv: ['--import', 'tsx'],
  });
  const next = (what: string) => new Promise<void>((resolve) => child.on('message', function on(m) { if (m === what) { child.off('message', on); resolve(); } }));
  await next('ready');
  while (impl.subscribers() < CLIENTS) await new Promise((r) => setTimeout(r, 10));
  const run = async () => {
    const finished = next('done');
    const t0 = performance.now();
    for (let i = 1; i <= EVENTS; i++) {
      impl.publish(i, i === EVENTS ? 'END' : PAYLOAD);
      if (i % BATCH === 0) await turn();
    }
    await finished;
    const ms = performance.now() - t0;
    child.send('reset');
    return ms;
  };
  const ms = await median(RUNS, run);
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  await server.close();
  return ms;
}

async function replay(naive: boolean): Promise<number> {
  const MISSED = 10_000;
  const store = new MemoryEventStore({ maxEvents: MISSED + 1 });
  const seed: { id: string; data: string }[] = [];
  for (let i = 0; i <= MISSED; i++) {
    const data = i === MISSED ? 'END' : PAYLOAD;
    seed.push({ id: store.append('r', { data }), data });
  }
  const app = express();
  if (naive) {
    // The seed's pattern: find the id, then write every later event.
    app.get('/feed', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const last = req.headers['last-event-id'];
      const start = seed.findIndex((e) => e.id === last) + 1;
      for (const e of seed.slice(start)) res.write(`id: ${e.id}\ndata: ${e.data}\n\n`);
    });
  } else {
    app.get('/feed', resume({ store, stream: 'r' }));
  }
  const server = await listen(app);
  const once = () =>
    new Promise<number>((resolve) => {
      const t0 = performance.now();
      const req = http.get(`${server.url}/feed`, { agent: false, headers: { 'Last-Event-ID': seed[0]!.id } }, (res) => {
        res.setEncoding('latin1');
        let tail = '';
        res.on('data', (chunk: string) => {
          if ((tail + chunk).includes('END')) {
            resolve(performance.now() - t0);
            req.destroy();
          }
          tail = chunk.slice(-2);
        });
        res.on('error', () => {});
      });
      req.on('error', () => {});
    });
  const ms = await median(7, once);
  await server.close();
  return ms;
}

async function main(): Promise<void> {
  const ours = await fanOut(sluice());
  const loop = await fanOut(handWritten());
  const better = await fanOut(betterSse());
  const replayOurs = await replay(false);
  const replaySeed = await replay(true);
  report(
    '@sluice/sse-resume',
    [
      {
        metric: `fan-out ${CLIENTS} clients × ${EVENTS} events, total ms (lower is better)`,
        values: { Sluice: ours, 'res.write loop': loop, 'better-sse Channel': better },
        target: '≤0.7× res.write loop, < better-sse',
        ok: ours <= 0.7 * loop && ours < better,
      },
      {
        metric: 'replay 10,000 missed events to a reconnecting client, ms',
        values: { Sluice: replayOurs, 'seed replay loop': replaySeed },
        target: '≤100 ms',
        ok: replayOurs <= 100,
      },
    ],
    [
      `Fan-out: the producer publishes ${BATCH} events per event-loop turn (SLUICE_BENCH_BATCH to change); each payload ~${PAYLOAD.length} bytes; the clock stops when all ${CLIENTS} clients (a child process) have the last event. Median of ${RUNS} run(s) after a warm-up (SLUICE_BENCH_RUNS), to keep the file under a minute.`,
      'Ratios in the table are Sluice ÷ other for the time metrics: below 1 means Sluice is faster.',
      'Replay: time from request to the 10,000th event at an in-process raw client; median of 7 after a warm-up.',
    ],
  );
}
