// Shared helpers for the side-by-side benchmarks. Every bench talks to 127.0.0.1 only, is bounded
// in count and time, and closes what it opened.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Starts `handler` (an Express app or a plain request listener) on an ephemeral loopback port. */
export async function listen(handler: http.RequestListener): Promise<Listening> {
  const server = http.createServer({ keepAliveTimeout: 1000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** GETs `url` and counts body bytes until the response ends; returns bytes and elapsed ms. */
export function drain(url: string, agent?: http.Agent): Promise<{ bytes: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: agent ?? false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ bytes, ms: performance.now() - t0 }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Runs `fn` `runs` times after one warm-up and returns the median of what it reports. */
export async function median(runs: number, fn: () => Promise<number>): Promise<number> {
  await fn();
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

export interface Row {
  /** What was measured, e.g. "events/s". */
  metric: string;
  /** Implementation name → value. The first entry is the Sluice one. */
  values: Record<string, number>;
  /** Human-readable target, e.g. "≥1.7× better-sse". */
  target?: string;
  /** Whether the target holds for this run. */
  ok?: boolean;
  /** For costs (bytes, ms): ratios then read "Sluice uses N× of X" instead of "N× faster". */
  lowerIsBetter?: boolean;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** Prints one benchmark section as Markdown; `bench/run.ts` collects these into BENCHMARKS.md. */
export function report(title: string, rows: Row[], notes: string[] = []): void {
  const lines = [`### ${title}`, '', '| metric | results | target | met |', '|---|---|---|---|'];
  for (const row of rows) {
    const entries = Object.entries(row.values);
    const [, base] = entries[0]!;
    const results = entries
      .map(([name, v], i) =>
        i === 0 || v === 0
          ? `${name}: ${fmt(v)}`
          : `${name}: ${fmt(v)} (Sluice ${row.lowerIsBetter ? 'uses ' : ''}${fmt(base / v)}×)`,
      )
      .join('<br>');
    const met = row.ok === undefined ? '' : row.ok ? 'yes' : '**no**';
    lines.push(`| ${row.metric} | ${results} | ${row.target ?? ''} | ${met} |`);
  }
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  console.log(lines.join('\n') + '\n');
}
