import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One scripted model reply, the same for both wire formats. */
export interface ScriptedReply {
  /** Text tokens, one chunk each. @defaultValue `['Hello', ',', ' world', '!']` */
  tokens?: string[];
  /** Reasoning ("thinking") tokens, streamed before the text. @defaultValue `[]` */
  reasoning?: string[];
  /** Tool calls streamed after the text, their JSON arguments in fragments. @defaultValue `[]` */
  toolCalls?: Array<{ id: string; name: string; arguments: string[] }>;
  /** Milliseconds between chunks. @defaultValue `0` */
  delayMs?: number;
  /** Milliseconds before the first chunk (after the headers). @defaultValue `0` */
  firstTokenDelayMs?: number;
  /** Answer with this HTTP error instead of a stream. @defaultValue `undefined` */
  httpError?: { status: number; type: string; message?: string; headers?: Record<string, string> };
  /** After this many text tokens, send the wire format's error event and end. @defaultValue `undefined` */
  errorAfter?: { tokens: number; type: string; message?: string };
  /** After this many text tokens, destroy the socket (a network drop). @defaultValue `undefined` */
  dropAfter?: number;
  /** The finish reason in the wire format's own words. @defaultValue `'stop'` / `'end_turn'` (`tool_calls` / `tool_use` with tools) */
  finishReason?: string;
  /** Token counts to report. @defaultValue `{ input: 10, output: <number of tokens> }` */
  usage?: { input: number; output: number };
}

/** A request a scripted server received, and what became of it. */
export interface ScriptedRequest {
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** Chunks/events written so far. */
  written: number;
  /** True when the client closed the connection before the reply was complete. */
  aborted: boolean;
  /** `performance.now()` when the server saw the connection close (or the reply end). */
  closedAt: number | undefined;
  /** Resolves when the server sees the response close, whichever side ended it. */
  closed: Promise<void>;
}

/** A scripted model server started by `openAIServer()` / `anthropicServer()`. */
export interface LLMTestServer {
  /** The base URL to give the SDK (`baseURL`). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: ScriptedRequest[];
  /** Resolves with the `n`-th request (1-based) once it arrived. */
  request(n?: number): Promise<ScriptedRequest>;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/** Either one reply for every request, or a function choosing one per request body. */
export type Script = ScriptedReply | ((body: Record<string, unknown>, index: number) => ScriptedReply);

/** Writes frames with the scripted pacing; stops (without throwing) once the client is gone. @internal */
export interface Pacer {
  readonly gone: boolean;
  write(frame: string): Promise<boolean>;
  /** Destroys the socket once what was written reached it: a network drop mid-stream, not lost writes. */
  drop(): Promise<void>;
}

/** Starts a scripted server; `speak` writes one reply in its wire format. @internal */
export async function startScripted(
  path: RegExp,
  script: Script,
  speak: (reply: ScriptedReply, body: Record<string, unknown>, res: http.ServerResponse, pace: Pacer) => Promise<void>,
  urlSuffix: string,
): Promise<LLMTestServer> {
  const requests: ScriptedRequest[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !path.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // A test server takes what it gets; the script decides the reply.
      }
      const controller = new AbortController();
      let markClosed!: () => void;
      const record: ScriptedRequest = {
        body, headers: req.headers, written: 0, aborted: false, closedAt: undefined,
        closed: new Promise((resolve) => (markClosed = resolve)),
      };
      res.once('close', () => {
        record.closedAt = performance.now();
        record.aborted = !res.writableFinished;
        controller.abort();
        markClosed();
      });
      requests.push(record);
      waiters.splice(0).forEach((wake) => wake());
      const reply = typeof script === 'function' ? script(body, requests.length - 1) : script;
      const pace: Pacer = {
        get gone() {
          return controller.signal.aborted;
        },
        async write(frame) {
          if (controller.signal.aborted) return false;
          const delay = record.written === 0 ? reply.firstTokenDelayMs ?? 0 : reply.delayMs ?? 0;
          if (delay > 0) await sleep(delay, undefined, { signal: controller.signal }).catch(() => {});
          if (controller.signal.aborted) return false;
          res.write(frame);
          record.written++;
          return true;
        },
        async drop() {
          await new Promise<void>((resolve) => res.write('', () => resolve()));
          await sleep(reply.delayMs ?? 0);
          res.destroy();
        },
      };
      speak(reply, body, res, pace).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${urlSuffix}`,
    requests,
    request: async (n = 1) => {
      while (requests.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
      return requests[n - 1]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON error body and the given status. @internal */
export function sendHttpError(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
