import express from 'express';
import express4 from 'express4';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { listen, type ScriptedRequest, type TestServer } from '@sluice/testing';
import type { LLMResult } from '@sluice/llm-stream';

export type Factory = typeof express;
export const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

/** Errors that reached the app's error handler. */
export interface AppWithErrors extends Express {
  errors: unknown[];
}

/**
 * An app with a JSON body parser, `handler` on POST /chat and on POST /v1/chat/completions (for
 * the OpenAI SDK as a client), optional extra routes, and an error handler that answers
 * `{ error: { code, message } }` with `err.status` and `err.headers`.
 */
export function createApp(
  framework: Factory,
  handler: (req: Request, res: Response, next: (err?: unknown) => void) => void,
  extra: (app: Express) => void = () => {},
): AppWithErrors {
  const app = framework() as AppWithErrors;
  app.errors = [];
  app.use(framework.json());
  const route: RequestHandler = (req, res, next) => handler(req, res, next);
  app.post('/chat', route);
  app.get('/chat', route);
  app.post('/v1/chat/completions', route);
  extra(app);
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    app.errors.push(err);
    res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: { code: err.code, message: err.message } });
  };
  app.use(onError);
  return app;
}

export async function serve(app: Express): Promise<TestServer> {
  return listen(app as unknown as Parameters<typeof listen>[0]);
}

/** POSTs JSON with fetch and parses the SSE answer with eventsource-parser. */
export async function fetchSSE(url: string, body: unknown = {}, init: RequestInit = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    ...init,
  });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  const text = await response.text();
  parser.feed(text);
  return { response, events, comments, text, json: (name: string) => events.filter((e) => e.event === name).map((e) => JSON.parse(e.data)) };
}

/** Reads a whole response body, tolerating a cut connection: returns the text and whether it ended cleanly. */
export async function fetchText(url: string, body: unknown = {}): Promise<{ status: number; text: string; complete: boolean; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { status: response.status, text, complete: true, headers: response.headers };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { status: response.status, text, complete: false, headers: response.headers };
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `ok` every 5 ms until it holds; throws after `limitMs`. */
export async function until(ok: () => boolean, limitMs = 5000): Promise<void> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > limitMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** The SSE events in `text`, parsed with eventsource-parser. */
export function parseSSE(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  createParser({ onEvent: (e) => events.push(e) }).feed(text);
  return events;
}

/** The text of each `token` event, in order. */
export const tokensOf = (events: EventSourceMessage[]): string[] =>
  events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).text as string);

/** The names of the terminal events (`done`, `error`, `cancelled`), in order. */
export const terminalsOf = (events: EventSourceMessage[]): (string | undefined)[] =>
  events.filter((e) => e.event === 'done' || e.event === 'error' || e.event === 'cancelled').map((e) => e.event);

/** Starts a POST and returns at the response headers, with the generation id and a reader for the rest. */
export async function startStream(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const rest = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { text, complete: true };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return { text, complete: false };
    }
  })();
  return {
    response,
    id: response.headers.get('x-generation-id')!,
    /** Text received so far. */
    get text() {
      return text;
    },
    rest,
    leave: () => reader.cancel().catch(() => {}),
  };
}

/** After a cancel: the client's stream ends with `cancelled`, the upstream request was aborted, onFinish saw it. */
export async function expectCancelled(rest: Promise<{ text: string }>, upstreamRequest: ScriptedRequest, results: LLMResult[]): Promise<void> {
  const { text } = await rest;
  expect(terminalsOf(parseSSE(text))).toEqual(['cancelled']);
  await upstreamRequest.closed;
  expect(upstreamRequest.aborted).toBe(true);
  await until(() => results.length === 1);
  expect(results[0]).toMatchObject({ cancelled: true });
}
