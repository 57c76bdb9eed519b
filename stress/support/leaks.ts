// Counting what a storm could leave behind: handles in the event loop, sockets on the server,
// listeners on the responses and sockets it served.
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestHandler } from 'express';

/** The handle kinds a leak shows up as. */
export const KINDS = ['Timeout', 'Immediate', 'TCPSocketWrap'] as const;
export type Kind = (typeof KINDS)[number];

/** Active handles of this process by kind (`process.getActiveResourcesInfo()`). */
export function resources(): Record<Kind, number> {
  const counts: Record<Kind, number> = { Timeout: 0, Immediate: 0, TCPSocketWrap: 0 };
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind as Kind]++;
  return counts;
}

/** Kinds that grew since `before`, with their growth (an empty object when nothing grew). */
export function grown(before: Record<Kind, number>): Partial<Record<Kind, number>> {
  const now = resources();
  const out: Partial<Record<Kind, number>> = {};
  for (const kind of KINDS) if (now[kind] > before[kind]) out[kind] = now[kind] - before[kind];
  return out;
}

export function connections(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Polls `problems` until it returns none or `ms` passed (sockets and timers need a moment to
 * settle after the last client left); returns the last problems found.
 */
export async function settle(problems: () => Promise<string[]> | string[], ms = 2000): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const found = await problems();
    if (found.length === 0 || Date.now() >= until) return found;
    await sleep(50);
  }
}

function listenerCounts(emitter: EventEmitter): Map<string | symbol, number> {
  return new Map(emitter.eventNames().map((name) => [name, emitter.listenerCount(name)]));
}

/**
 * Remembers every response (and its socket) entering the app with the listeners they had on
 * arrival; `leftovers()` lists any that has more listeners on some event than it came in with.
 */
export function listenerTracker() {
  const seen: Array<{ res: http.ServerResponse; socket: EventEmitter; res0: Map<string | symbol, number>; socket0: Map<string | symbol, number> }> = [];
  const middleware: RequestHandler = function track(req, res, next) {
    seen.push({ res, socket: req.socket, res0: listenerCounts(res), socket0: listenerCounts(req.socket) });
    next();
  };
  function leftovers(): string[] {
    const out: string[] = [];
    const check = (what: string, emitter: EventEmitter, start: Map<string | symbol, number>) => {
      for (const [name, n] of listenerCounts(emitter)) {
        if (n > (start.get(name) ?? 0)) out.push(`${what} '${String(name)}': ${start.get(name) ?? 0} → ${n}`);
      }
    };
    for (const { res, socket, res0, socket0 } of seen) {
      check('res', res, res0);
      check('socket', socket, socket0);
    }
    return out;
  }
  return { middleware, leftovers, get count() { return seen.length; } };
}

/**
 * Counts live `setTimeout`/`setInterval` timers created through the globals while installed,
 * unref'd ones included (`getActiveResourcesInfo()` lists only ref'd timers, and every Sluice
 * timer is unref'd). A timer is live until it fired (timeouts) or was cleared. `restore()` puts
 * the original globals back.
 */
export function timerTracker() {
  const live = new Set<NodeJS.Timeout>();
  const original = { setTimeout, clearTimeout, setInterval, clearInterval };
  const g = globalThis as unknown as Record<keyof typeof original, unknown>;
  g.setTimeout = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: NodeJS.Timeout = original.setTimeout((...a: unknown[]) => {
      live.delete(timer);
      fn(...a);
    }, ms, ...args);
    live.add(timer);
    return timer;
  };
  g.setInterval = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = original.setInterval(fn, ms, ...args);
    live.add(timer);
    return timer;
  };
  g.clearTimeout = (timer: NodeJS.Timeout | undefined) => {
    if (timer) live.delete(timer);
    original.clearTimeout(timer);
  };
  g.clearInterval = (timer: NodeJS.Timeout | undefined) => {
    if (timer) live.delete(timer);
    original.clearInterval(timer);
  };
  return {
    get live() {
      return live.size;
    },
    restore: () => Object.assign(g, original),
  };
}
