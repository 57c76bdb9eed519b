import type { IncomingMessage } from 'node:http';
import { quietCutResponses, type StreamableRequest } from './collect.js';
import { TestingTimeoutError } from './errors.js';

/** One NDJSON value with the time its line arrived. */
export interface CollectedValue {
  value: unknown;
  at: number;
}

/** Everything read from one NDJSON response. */
export interface NDJSONCollection {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  values: CollectedValue[];
  /** True when the server ended the response cleanly; false when it was cut. */
  complete: boolean;
  /** Bytes after the last newline when the response closed (a cut line), if any. */
  rest: string;
}

/**
 * Reads an NDJSON response from a supertest request as it streams, parsing each line when it
 * arrives. Deliberately simple (JSON.parse per `\n`-terminated line) so that it is an independent
 * check on the encoders under test.
 */
export function collectNDJSON(test: StreamableRequest, options: { timeoutMs?: number } = {}): Promise<NDJSONCollection> {
  const t0 = Date.now();
  const out: NDJSONCollection = { status: 0, headers: {}, values: [], complete: false, rest: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TestingTimeoutError('collectNDJSON: no end in time', out.values)), options.timeoutMs ?? 5000);
    let message: IncomingMessage | undefined;
    test.buffer(false).parse((res, done) => {
      message = res as IncomingMessage;
      out.status = message.statusCode ?? 0;
      out.headers = message.headers;
      message.setEncoding('utf8');
      message.on('data', (text: string) => {
        const lines = (out.rest + text).split('\n');
        out.rest = lines.pop()!;
        const at = Date.now() - t0;
        for (const line of lines) if (line.trim() !== '') out.values.push({ value: JSON.parse(line), at });
      });
      // A cut response surfaces as 'aborted'/'error', not always as 'close'.
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        out.complete = message!.complete;
        done(null, undefined);
        resolve(out);
      };
      for (const event of ['end', 'close', 'aborted', 'error']) message.on(event, end);
    });
    quietCutResponses(test);
    test.end((err) => {
      if (err && !message) {
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  });
}
