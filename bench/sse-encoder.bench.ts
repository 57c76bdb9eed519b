// @sluice/sse-encoder against what an Express user would write instead: hand-written
// `res.write` per event, and better-sse. (1) 200k small events to one client; (2) memory per idle
// SSE connection, measured in a separate server process with 2,000 idle connections.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import express from 'express';
import { createSession } from 'better-sse';
import { sse } from '@sluice/sse-encoder';
import { drain, listen, median, report } from './lib.js';

const EVENTS = 200_000;
const IDLE = 2_000;
type Kind = 'sluice' | 'raw' | 'better-sse';

function app(kind: Kind, events: number): express.Express {
  const a = express();
  if (kind === 'sluice') {
    a.get('/', sse(), async (_req, res) => {
      const stream = res.sse!;
      for (let i = 0; i < events && !stream.closed; i++) await stream.send(String(i));
      stream.close();
    });
  } else if (kind === 'raw') {
    a.get('/', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      for (let i = 0; i < events; i++) {
        if (!res.write(`data: ${i}\n\n`)) await once(res, 'drain');
      }
      res.end();
    });
  } else {
    a.get('/', async (req, res) => {
      const session = await createSession(req, res, { keepAlive: null, serializer: String });
      for (let i = 0; i < events; i++) session.push(String(i));
      res.end();
    });
  }
  return a;
}

async function throughput(kind: Kind): Promise<number> {
  const server = await listen(app(kind, EVENTS));
  const ms = await median(5, async () => (await drain(server.url)).ms);
  await server.close();
  return Math.round(EVENTS / (ms / 1000));
}

// Child mode: serve idle streams and report heap/RSS after GC when asked.
if (process.argv[2] === 'serve') {
  const kind = process.argv[3] as Kind | 'express';
  const a = express();
  const held: unknown[] = [];
  if (kind === 'express') {
    a.get('/', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      held.push(res);
    });
  } else if (kind === 'sluice') {
    a.get('/', sse(), () => {});
  } else {
    a.get('/', async (req, res) => void held.push(await createSession(req, res, { keepAlive: null })));
  }
  const server = http.createServer(a).listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.address() as { port: number }).port }),
  );
  process.on('message', () => {
    for (let i = 0; i < 3; i++) global.gc!();
    const m = process.memoryUsage();
    process.send!({ heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss });
  });
} else {
  await main();
}

async function idleCost(kind: Kind | 'express'): Promise<number> {
  const child = fork(import.meta.filename, ['serve', kind], { execArgv: ['--expose-gc', '--import', 'tsx'] });
  const ask = async () => {
    child.send('measure');
    const [m] = (await once(child, 'message')) as [{ heap: number }];
    return m.heap;
  };
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  // Warm up one connection so lazily built route state is not counted per connection.
  await new Promise<void>((r) => http.get({ port, host: '127.0.0.1', agent }, () => r()));
  const before = await ask();
  const requests: http.ClientRequest[] = [];
  await Promise.all(
    Array.from({ length: IDLE }, () =>
      new Promise<void>((resolve) => requests.push(http.get({ port, host: '127.0.0.1', agent }, () => resolve()))),
    ),
  );
  await new Promise((r) => setTimeout(r, 300));
  const after = await ask();
  for (const r of requests) r.destroy();
  agent.destroy();
  child.kill();
  return (after - before) / IDLE;
}

async function main() {
  const rate = { sluice: await throughput('sluice'), raw: await throughput('raw'), better: await throughput('better-sse') };
  const perConn = { express: await idleCost('express'), sluice: await idleCost('sluice'), better: await idleCost('better-sse') };
  const extra = perConn.sluice - perConn.express;
  report(
    '@sluice/sse-encoder',
    [
      {
        metric: `events/s, ${EVENTS.toLocaleString('en-US')} small events to one client (await per send)`,
        values: { Sluice: rate.sluice, 'hand-written res.write': rate.raw, 'better-sse 0.16': rate.better },
        target: '≥1.0× res.write, ≥1.7× better-sse',
        ok: rate.sluice >= rate.raw && rate.sluice >= 1.7 * rate.better,
      },
      {
        metric: `heap+external bytes per idle SSE connection (${IDLE.toLocaleString('en-US')} open)`,
        values: { Sluice: perConn.sluice, 'raw Express': perConn.express, 'better-sse 0.16': perConn.better },
        target: '≤ raw Express + 3 KB',
        lowerIsBetter: true,
        ok: extra <= 3072,
      },
    ],
    [
      `Sluice costs ${Math.round(extra)} B per idle connection over raw Express (a held \`res\` with headers flushed).`,
      'Events of one event-loop turn share one socket write; raw res.write writes (and frames) each one.',
    ],
  );
}
