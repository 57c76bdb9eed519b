// Clients that drop at random points mid-stream, run with bounded concurrency, plus a seeded RNG so
// a failing storm can be replayed (SLUICE_STRESS_SEED).
import http from 'node:http';

/** Small seeded PRNG (mulberry32): the storm is random but replayable from the printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.SLUICE_STRESS_SEED ?? Date.now() % 1_000_000);

/** How one client ended. */
export type Outcome = 'before-response' | 'mid-body' | 'server-ended' | 'error';

/** When a client drops: after `bytes` body bytes or `ms` milliseconds, whichever comes first. */
export interface DropPlan {
  bytes: number;
  ms: number;
}

/**
 * A random drop point: a third by time alone (some before the headers), the rest by bytes read;
 * all by time when `maxBytes` is `Infinity` (uploads).
 */
export function randomPlan(random: () => number, maxBytes: number, maxMs: number): DropPlan {
  const byTime = !Number.isFinite(maxBytes) || random() < 1 / 3;
  return {
    bytes: byTime ? Infinity : 1 + Math.floor(random() * maxBytes),
    ms: byTime ? Math.floor(random() * maxMs) : maxMs * 4,
  };
}

export interface ClientOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Called once the request is open, to write an upload body; the client destroys it at the plan's point. */
  upload?: (req: http.ClientRequest) => void;
}

/** One raw client: `http.request` without an agent, `req.destroy()` at the planned point. */
export function dropClient(url: string, plan: DropPlan, options: ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    let bytes = 0;
    let outcome: Outcome = 'before-response';
    const req = http.request(url, { agent: false, method: options.method ?? 'GET', headers: options.headers });
    const timer = setTimeout(() => req.destroy(), plan.ms);
    req.on('error', () => {});
    req.on('response', (res) => {
      outcome = 'mid-body';
      res.on('error', () => {});
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= plan.bytes) req.destroy();
      });
      res.on('end', () => (outcome = 'server-ended'));
    });
    req.on('close', () => {
      clearTimeout(timer);
      resolve(outcome);
    });
    if (options.upload) options.upload(req);
    else req.end();
  });
}

/** Runs `count` tasks, at most `concurrency` at a time; returns how many ended each way. */
export async function storm(count: number, concurrency: number, task: (i: number) => Promise<Outcome>): Promise<Record<Outcome, number>> {
  const tally: Record<Outcome, number> = { 'before-response': 0, 'mid-body': 0, 'server-ended': 0, error: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      tally[await task(i).catch((): Outcome => 'error')]++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}
