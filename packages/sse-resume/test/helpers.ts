import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface Served {
  url: string;
  close(): void;
}

export async function serve(app: http.RequestListener): Promise<Served> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface Client {
  events: EventSourceMessage[];
  retries: number[];
  text(): string;
  status: number;
  ended: Promise<void>;
  waitFor(test: (events: EventSourceMessage[]) => boolean, timeoutMs?: number): Promise<EventSourceMessage[]>;
  destroy(): void;
  /** The underlying response, e.g. to pause() it like a slow reader. */
  res: http.IncomingMessage;
}

/** A raw `http.get` SSE client (no agent, no retries) that parses events as they arrive. */
export function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      let body = '';
      const events: EventSourceMessage[] = [];
      const retries: number[] = [];
      const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        parser.feed(chunk);
      });
      res.on('error', () => {});
      const ended = new Promise<void>((ok) => res.on('close', ok));
      let closed = false;
      void ended.then(() => (closed = true));
      resolve({
        events,
        retries,
        text: () => body,
        status: res.statusCode ?? 0,
        ended,
        res,
        async waitFor(test, timeoutMs = 5000) {
          const until = performance.now() + timeoutMs;
          while (!test(events)) {
            if (closed || performance.now() > until) {
              throw new Error(`${closed ? 'closed' : 'timed out'} with ${events.length} events; tail: ${JSON.stringify(body.slice(-300))}`);
            }
            await sleep(5);
          }
          return events;
        },
        destroy: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

export async function waitUntil(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Checks that `events` carry data `from..to` exactly once each, in order. */
export function expectSequence(events: { data: string }[], from: number, to: number): void {
  const got = events.map((e) => Number(e.data));
  const want = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  expect(got).toEqual(want);
}
