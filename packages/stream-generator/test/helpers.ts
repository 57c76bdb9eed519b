import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';

export type Express = typeof express;

/** Both Express majors, for `describe.each`. */
export const expresses: [string, Express][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Express],
];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A promise with its resolve function, for hooks that fire inside the server. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects if `promise` has not settled within `ms` (the timer is cleared either way). */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Server {
  url: string;
  close(): Promise<void>;
}

export async function listen(app: http.RequestListener): Promise<Server> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Body pieces as they arrived, with the ms since the request started. */
  arrivals: { ms: number; bytes: number }[];
  /** True only for a clean end of the body (false for a cut response). */
  complete: boolean;
}

/** GETs `url` with a raw client and reports whether the body ended cleanly or was cut. */
export function rawGet(url: string, method = 'GET', headers: http.OutgoingHttpHeaders = {}): Promise<RawResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      const arrivals: RawResult['arrivals'] = [];
      res.on('data', (c: Buffer) => {
        parts.push(c);
        arrivals.push({ ms: Date.now() - t0, bytes: c.length });
      });
      res.on('error', () => undefined); // 'aborted' on a cut response; `complete` tells it
      res.on('close', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), arrivals, complete: res.complete }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
