import http from 'node:http';
import express from 'express';
import express4 from 'express4';

export type Express = typeof express;

/** Both Express majors, for `describe.each`. */
export const expresses: [string, Express][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Express],
];

// Shared with every package's tests (and users'): a loopback server, deferreds, timeouts.
export { deferred, listen, within } from '@sluice/testing';
export type { TestServer as Server } from '@sluice/testing';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
