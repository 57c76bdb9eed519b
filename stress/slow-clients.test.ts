// Slow clients: 100 clients reading 1 KB/s for 30 s from endless streams (an SSE feed and a
// stream-generator generator). The server runs in a child process so only its memory is measured:
// RSS growth must stay bounded, and a fast download on the same server must keep its speed.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

jest.setTimeout(90_000);

const SLOW = 100;
const SECONDS = 30;
const BULK_MB = 64;
const MB = 1024 * 1024;

let child: ChildProcess;
let base: string;

async function memory(): Promise<{ rss: number; heap: number; external: number }> {
  const reply = once(child, 'message') as Promise<[{ rss: number; heap: number; external: number }]>;
  child.send('measure');
  return (await reply)[0];
}

/** Downloads BULK_MB MiB; resolves with MiB/s. */
function download(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http.get(`${base}/bulk?mb=${BULK_MB}`, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (bytes === BULK_MB * MB ? resolve(BULK_MB / ((performance.now() - t0) / 1000)) : reject(new Error(`got ${bytes} bytes`))));
    }).on('error', reject);
  });
}

/** The best of `n` downloads: the least disturbed by other agents on this shared machine. */
async function bestOf(n: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < n; i++) best = Math.max(best, await download());
  return best;
}

/** A client that takes 1 KiB per second from a paused response. */
function slowClient(path: string, phaseMs: number) {
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const req = http.get(`${base}${path}`, { agent: false }, (res) => {
    res.pause();
    res.on('error', () => {});
    // Phases spread the 100 reads over the second instead of one burst.
    timer = setTimeout(function tick() {
      const chunk = res.read(1024) as Buffer | null;
      if (chunk) bytes += chunk.length;
      timer = setTimeout(tick, 1000);
    }, phaseMs);
  });
  req.on('error', () => {});
  return {
    get bytes() {
      return bytes;
    },
    stop() {
      clearTimeout(timer);
      req.destroy();
    },
  };
}

beforeAll(async () => {
  child = fork(join(__dirname, 'support/slow-server.ts'), [], { execArgv: ['--expose-gc', '--import', 'tsx'], cwd: join(__dirname, '..') });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  const exited = once(child, 'exit');
  child.disconnect(); // the child closes its server and exits by itself
  const timer = setTimeout(() => child.kill(), 5000);
  await exited;
  clearTimeout(timer);
});

it(`${SLOW} clients at 1 KB/s for ${SECONDS} s: bounded server RSS, fast clients keep their speed`, async () => {
  await bestOf(2); // warm-up: JIT, socket buffers, lazily built route state
  const alone = await bestOf(3);
  const before = await memory();

  const started = Date.now();
  // Clients arrive over the first 5 s, as traffic does, each reading in its own phase of the second.
  const clients: Array<ReturnType<typeof slowClient>> = [];
  for (let i = 0; i < SLOW; i++) {
    clients.push(slowClient(i % 2 ? '/feed' : '/gen', (i * 1000) / SLOW));
    await sleep(5000 / SLOW);
  }
  let peak = before.rss;
  let last = before;
  const during: number[] = [];
  try {
    while (Date.now() - started < SECONDS * 1000) {
      const elapsed = Date.now() - started;
      // Fast downloads a third and two thirds of the way in, once every slow stream is backed up.
      if (during.length < 2 && elapsed > ((during.length + 1) * SECONDS * 1000) / 3) during.push(await bestOf(2));
      else await sleep(1000);
      last = await memory();
      peak = Math.max(peak, last.rss);
      if (process.env.SLUICE_STRESS_DEBUG) console.log(Math.round((Date.now() - started) / 1000), JSON.stringify(last), require('node:fs').readFileSync('/proc/net/sockstat', 'utf8').split('\n')[1]);
    }
  } finally {
    for (const client of clients) client.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const after = process.env.SLUICE_STRESS_DEBUG ? await bestOf(3) : 0;
  if (after) console.log('alone after', after);
  const growthMB = (peak - before.rss) / MB;
  const fastDuring = Math.max(...during);
  const ratio = fastDuring / alone;
  const read = clients.map((c) => c.bytes);
  console.log(
    `[stress] slow clients: ${SLOW} clients at 1 KB/s for ${seconds.toFixed(1)} s (each read ${Math.min(...read)}–${Math.max(...read)} B); ` +
      `server RSS ${(before.rss / MB).toFixed(1)} → peak ${(peak / MB).toFixed(1)} MB (growth ${growthMB.toFixed(1)} MB, limit 35); ` +
      `fast ${BULK_MB} MiB download ${alone.toFixed(0)} MiB/s alone, ${fastDuring.toFixed(0)} MiB/s among slow clients (ratio ${ratio.toFixed(2)})`,
  );
  // The slow clients really were slow and really were served.
  expect(Math.min(...read)).toBeGreaterThanOrEqual((SECONDS - 5) * 1024);
  expect(Math.max(...read)).toBeLessThanOrEqual((SECONDS + 2) * 1024);
  expect(growthMB).toBeLessThanOrEqual(35);
  expect(ratio).toBeGreaterThanOrEqual(0.5);
});
