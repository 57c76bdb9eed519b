import type { KeepaliveScheduler } from '@sluice/sse-keepalive';
import { settleResume, type LLMResumeOptions, type ResumeSettings } from './resume-options.js';
import type { CancelRegistry } from './cancel.js';
import type { LLMResult } from './types.js';

/** The wire formats `llmStream()` can speak. */
export type LLMProtocol = 'sse' | 'openai' | 'ai-sdk' | 'text' | 'ndjson';

/** Options for `llmStream()`. */
export interface LLMStreamOptions {
  /**
   * The wire format: `'sse'` (events `start`, `token`, `done`, `error`, `cancelled`), `'openai'`
   * (chat.completion.chunk lines and `[DONE]`), `'ai-sdk'` (UI message stream v1, for `useChat`),
   * `'text'` (the text only) or `'ndjson'` (one JSON object per line, as the `'sse'` events).
   * @defaultValue `'sse'`
   */
  protocol?: LLMProtocol;
  /**
   * The registry that makes this generation cancellable by id (`POST /cancel/:id`).
   * @defaultValue `undefined` (not cancellable by id; a client that leaves still stops it)
   */
  registry?: CancelRegistry;
  /**
   * Who started the generation (a user id, a session), handed to the registry's `authorize` hook.
   * @defaultValue `undefined`
   */
  owner?: unknown;
  /**
   * Called with the generation id as soon as it exists, before anything is sent (store it next to
   * the conversation, so another tab or device can cancel). A throw rejects `llmStream()` (500).
   * @defaultValue `undefined`
   */
  onStart?: (id: string) => void;
  /**
   * Called once when the generation ends in any way (done, error, cancelled, client gone with
   * `aborted: true` and the text so far), after the response was ended. For billing, logging, saving.
   * @defaultValue `undefined`
   */
  onFinish?: (result: LLMResult) => void | Promise<void>;
  /**
   * Called with failures that could no longer become an HTTP error: an upstream error after the
   * first byte (already sent in the protocol's error form) and errors thrown by `onFinish`.
   * @defaultValue `undefined` (the error is in `result.error` / the protocol's error form only)
   */
  onError?: (error: unknown) => void;
  /**
   * How long the response is held (status and headers unsent) while waiting for the model's first
   * output, so a failure in that window (429, 5xx, a refused connection) is still a real HTTP
   * error. After that the stream opens (`start` with the id) and keep-alive comments follow.
   * SSE-framed protocols only; `0` opens at once.
   * @defaultValue `2000`
   */
  waitForOutputMs?: number;
  /**
   * Milliseconds of silence after which a `: ping` comment is written (SSE-framed protocols), so
   * proxies keep the connection while a model thinks. `0` disables.
   * @defaultValue `15000`
   */
  keepaliveMs?: number;
  /**
   * The keep-alive scheduler (one timer for many streams). Share one `new KeepaliveScheduler()`
   * between routes to run a single timer for all generations.
   * @defaultValue `undefined` (one per generation, unref'd and cleared when it ends)
   */
  scheduler?: KeepaliveScheduler;
  /**
   * `'openai'` protocol: the `model` field of every chunk.
   * @defaultValue the upstream's model name, else `'unknown'`
   */
  model?: string;
  /**
   * `'openai'` protocol: send the final usage chunk (`choices: []`), as OpenAI does for
   * `stream_options: { include_usage: true }`.
   * @defaultValue `req.body.stream_options.include_usage === true`
   */
  includeUsage?: boolean;
  /**
   * Extra response headers (sent with the first byte, never on an error response).
   * @defaultValue `{}`
   */
  headers?: Record<string, string>;
  /**
   * Makes the generation resumable (`'sse'` protocol only): its events go to `resume.store` and
   * the client follows them there, so it can reconnect with `Last-Event-ID` (to
   * `resumeGeneration()`, on any instance sharing the store). A client disconnect then no longer
   * stops the model; a cancel through `registry` still does.
   * @defaultValue `undefined` (the client's disconnect stops the model)
   */
  resume?: LLMResumeOptions;
}


const PROTOCOLS = new Set<LLMProtocol>(['sse', 'openai', 'ai-sdk', 'text', 'ndjson']);

function ms(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`llmStream({ ${name} }) must be a non-negative integer (0 disables), got ${String(value)}`);
  }
  return value;
}

/** Options after validation. @internal */
export type Normalized = Required<Pick<LLMStreamOptions, 'protocol' | 'waitForOutputMs' | 'keepaliveMs' | 'headers'>> &
  Omit<LLMStreamOptions, 'resume'> & { resumeSettings: ResumeSettings | undefined };


/** Checks options before anything is touched; misuse is a `TypeError` naming the fix. @internal */
export function normalize(options: LLMStreamOptions): Normalized {
  if (options === null || typeof options !== 'object') throw new TypeError('llmStream(req, res, source, options) expects an options object');
  const protocol = options.protocol ?? 'sse';
  if (!PROTOCOLS.has(protocol)) {
    throw new TypeError(`llmStream({ protocol }) must be one of ${[...PROTOCOLS].join(', ')}; got ${String(protocol)}`);
  }
  for (const hook of ['onStart', 'onFinish', 'onError'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TypeError(`llmStream({ ${hook} }) must be a function`);
  }
  if (options.registry !== undefined && typeof options.registry?.register !== 'function') {
    throw new TypeError('llmStream({ registry }) must come from createCancelRegistry()');
  }
  return {
    ...options,
    protocol,
    waitForOutputMs: ms('waitForOutputMs', options.waitForOutputMs, 2000),
    keepaliveMs: ms('keepaliveMs', options.keepaliveMs, 15_000),
    headers: options.headers ?? {},
    resumeSettings: settleResume(options.resume, protocol),
  };
}

