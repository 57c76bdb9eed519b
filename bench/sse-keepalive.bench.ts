// @sluice/sse-keepalive: server CPU for 10,000 idle keep-alive streams (interval 15 s), measured
// with process.cpuUsage() in the server process while a child process holds the connections.
// The comparator is the pattern the issue rules out: one setInterval per connection writing the
// comment. Default window: 15 s (one full interval, so every stream pings once).
// SLUICE_BENCH_IDLE_MS=60000 measures the full minute and adds better-sse's keepAlive.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createSession } from 'better-sse';
import { keepalive, KeepaliveScheduler } from '@sluice/sse-keepalive';
import { listen, report } from './lib.js';

const STREAMS = Number(process.env.SLUICE_BENCH_STREAMS ?? 10_000);
const INTERVAL_MS = 15_000;
const WINDOW_MS = Math.min(60_000, Number(process.env.SLUICE_BENCH_IDLE_MS ?? 15_000));

if (process.argv[2] === '--clients') {
  const [url, n] = [process.argv[3]!, Number(process.argv[4])];
  const sockets: http.ClientRequest[] = [];
  let ready = 0;
  let pings = 0;
  // Open in waves so the listen backlog is never the bottleneck.
  const open = (from: number) => {
    for (let i = from; i < Math.min(n, from + 500); i++) {
      const req = http.get(url, { agent: false }, (res) => {
        res.setEncoding('latin1');
        // Any comment frame counts (better-sse sends a bare ':').
        res.on('data', (c: string) => (pings += c.match(/(?:^|\n):/g)?.length ?? 0));
        res.on('error', () => {});
        if (++ready === n) process.send!('ready');
        else if (ready % 500 === 0) open(ready);
      });
      req.on('error', () => {});
      sockets.push(req);
    }
  };
  open(0);
  process.on('message', (m) => {
    if (m === 'pings') process.send!({ pings });
    if (m === 'exit') {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
} else {
  await main();
}

async function idleCpu(app: express.Express): Promise<{ cpuPct: number; pings: number }> {
  const pingsNow = () => {
    child.send('pings');
    return new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { pings: number }).pings)));
  };
  const server = await listen(app);
  server.server.maxConnections = STREAMS + 100;
  const child = fork(fileURLToPath(import.meta.url), ['--clients', `${server.url}/`, String(STREAMS)], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  // Let connection setup settle before measuring.
  await new Promise((r) => setTimeout(r, 1000));
  globalThis.gc?.();
  const pings0 = await pingsNow();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const used = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const pings = (await pingsNow()) - pings0;
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  await server.close();
  return { cpuPct: ((used.user + used.system) / 1000 / wall) * 100, pings };
}

async function main(): Promise<void> {
  const scheduler = new KeepaliveScheduler();
  const ours = express();
  ours.get('/', keepalive({ intervalMs: INTERVAL_MS, scheduler }), () => {});
  const sluice = await idleCpu(ours);
  const naive = express();
  naive.get('/', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    const timer = setInterval(() => res.write(': ping\n\n'), INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });
  const perConnection = await idleCpu(naive);
  const values: Record<string, number> = { Sluice: sluice.cpuPct, 'setInterval per connection': perConnection.cpuPct };
  const notes = [
    `${STREAMS.toLocaleString('en-US')} idle streams held by a child process, keepalive({ intervalMs: ${INTERVAL_MS} }); server CPU (user+system, all threads incl. GC) over a ${WINDOW_MS / 1000} s window starting 1 s after the last connection, as % of one core. Pings in the window: Sluice ${sluice.pings.toLocaleString('en-US')}, setInterval ${perConnection.pings.toLocaleString('en-US')}.`,
    'The floor is the socket writes themselves: 10,000 streams at 15 s are ~667 writes/s whatever schedules them. Sluice pings after intervalMs of silence rounded up to its 1 s bucket, so slightly fewer pings per window.',
  ];
  if (WINDOW_MS >= 60_000) {
    const theirs = express();
    theirs.get('/', async (req, res) => void (await createSession(req, res, { keepAlive: INTERVAL_MS })));
    const better = await idleCpu(theirs);
    values['better-sse keepAlive'] = better.cpuPct;
    notes.push(`better-sse (one setInterval per session) sent ${better.pings.toLocaleString('en-US')} keep-alive comments in the window.`);
  } else {
    notes.push('Opt-in: SLUICE_BENCH_IDLE_MS=60000 measures a full minute (the issue\'s figure) and adds better-sse; not run by default to keep `npm run bench` short.');
  }
  report(
    '@sluice/sse-keepalive',
    [{ metric: 'server CPU, 10,000 idle keep-alive streams, % of one core', values, target: '≤1%', ok: sluice.cpuPct <= 1 }],
    notes,
  );
}
