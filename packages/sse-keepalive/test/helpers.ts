import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** `node:timers/promises` is not replaced by jest's fake timers, so this really waits. */
export const realSleep = (ms: number): Promise<unknown> => sleep(ms);

// A loopback server from @sluice/testing (close() also cuts open connections).
export { listen as serve } from '@sluice/testing';
export type { TestServer as Served } from '@sluice/testing';

export interface RawClient {
  text(): string;
  headers: http.IncomingHttpHeaders;
  ended: Promise<void>;
  /** Resolves once the received text satisfies `test`, or rejects after `timeoutMs` (real time). */
  waitFor(test: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  destroy(): void;
}

/** A raw `http.get` client that records the body as it arrives. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', () => {});
      const ended = new Promise<void>((ok) => res.on('close', ok));
      resolve({
        text: () => body,
        headers: res.headers,
        ended,
        async waitFor(test, timeoutMs = 5000) {
          const until = performance.now() + timeoutMs;
          while (!test(body)) {
            if (performance.now() > until) throw new Error(`timed out; received so far: ${JSON.stringify(body)}`);
            await sleep(5);
          }
          return body;
        },
        destroy: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

export const count = (text: string, needle: string): number => text.split(needle).length - 1;
