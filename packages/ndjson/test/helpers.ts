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

/** A promise with its settle functions, for hooks that fire inside the server. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
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
  server: http.Server;
  close(): Promise<void>;
}

export async function listen(app: http.RequestListener): Promise<Server> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
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
