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
  text: string;
  /** True only for a clean end of the body (false for a cut response). */
  complete: boolean;
}

/** Reads a response to the end (or to its cut) with a raw client. */
export function readAll(res: http.IncomingMessage): Promise<RawResult> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('error', () => undefined); // 'aborted' on a cut response; `complete` tells it
    res.on('close', () =>
      resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString('utf8'), complete: res.complete }),
    );
  });
}

/** GETs `url` with a raw client (no agent, no retries). */
export function rawGet(url: string): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => resolve(readAll(res))).on('error', reject);
  });
}

/** A raw streaming upload: write as you like, `response` settles when the server answers. */
export function upload(url: string, contentType = 'application/x-ndjson') {
  const req = http.request(url, {
    method: 'POST',
    agent: false,
    headers: { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked' },
  });
  const response = new Promise<RawResult>((resolve, reject) => {
    req.on('response', (res) => resolve(readAll(res)));
    req.on('error', reject);
  });
  response.catch(() => undefined);
  /** Writes and waits for 'drain' when the socket is full. */
  const write = (chunk: string | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (req.write(chunk)) return resolve();
      const onDrain = () => (req.off('error', onError), resolve());
      const onError = (e: unknown) => (req.off('drain', onDrain), reject(e));
      req.once('drain', onDrain);
      req.once('error', onError);
    });
  return { req, response, write };
}
