import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEEvent } from '@sluice/sse-encoder';
import { toLLMStreamError } from './errors.js';
import { Generation } from './generation.js';
import { normalize, type LLMStreamOptions, type Normalized } from './options.js';
import { AI_SDK_HEADERS, aiSdkEncoder } from './protocols/ai-sdk.js';
import type { Encoder } from './protocols/encoder.js';
import { ndjsonEncoder } from './protocols/ndjson.js';
import { openaiEncoder } from './protocols/openai.js';
import { sseEncoder } from './protocols/sse.js';
import { textEncoder } from './protocols/text.js';
import { run } from './run.js';
import { sendBody } from './sinks/body.js';
import { sendSSE } from './sinks/sse.js';
import { sendToStore } from './sinks/store.js';
import { discard, type LLMSource } from './sources/source.js';
import type { LLMResult } from './types.js';

const BODY_HEADERS = { 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' };

function includeUsage(req: IncomingMessage, options: Normalized): boolean {
  if (options.includeUsage !== undefined) return options.includeUsage;
  const body = (req as { body?: { stream_options?: { include_usage?: unknown } } }).body;
  return body?.stream_options?.include_usage === true;
}

function deliver(req: IncomingMessage, res: ServerResponse, g: Generation, source: LLMSource, options: Normalized): Promise<void> {
  // The id goes out as a header too, so the text and NDJSON protocols can be cancelled as well.
  const headers = { ...options.headers, 'X-Generation-Id': g.id };
  switch (options.protocol) {
    case 'text':
      return sendBody(res, g, run(g, source, textEncoder()), 'text/plain; charset=utf-8', { ...BODY_HEADERS, ...headers });
    case 'ndjson':
      return sendBody(res, g, run(g, source, ndjsonEncoder(g)), 'application/x-ndjson', { ...BODY_HEADERS, ...headers });
    default: {
      const encoder: Encoder<SSEEvent> =
        options.protocol === 'openai'
          ? openaiEncoder(g, { model: options.model, includeUsage: includeUsage(req, options) })
          : options.protocol === 'ai-sdk'
            ? aiSdkEncoder(g)
            : sseEncoder(g);
      const extra = options.protocol === 'ai-sdk' ? { ...headers, ...AI_SDK_HEADERS } : headers;
      if (options.resumeSettings) {
        return sendToStore(req, res, g, run(g, source, encoder), encoder, options, options.resumeSettings, extra);
      }
      return sendSSE(req, res, g, run(g, source, encoder), encoder, options, extra);
    }
  }
}

/**
 * Streams a model's output to the client in the chosen protocol, and stops the model when the
 * client stops: a client that leaves (the response's `close`) aborts the upstream request, and so
 * does a cancel through `options.registry`. With `options.resume` the events go to a store and
 * the client follows them there: a client that leaves can reconnect (`resumeGeneration()`), and
 * only a cancel, or `resume.keepRunningMs` without that client, stops the model.
 *
 * @param source an OpenAI chat completions stream, an Anthropic messages stream, any
 * (async) iterable of their raw events or of strings, a promise of one, or
 * `(signal) => one of those` (pass `signal` to the SDK call so aborting reaches the HTTP request).
 * @returns a promise that resolves with the {@link LLMResult} once the response ended (also when
 * the client left or the model failed mid-stream, which the client was told in the protocol's own
 * way), and rejects with an {@link LLMStreamError} (with `status`, e.g. 429) when the model failed
 * before anything was sent: pass it to `next(err)` for a real HTTP error. Bad options reject with
 * a `TypeError`.
 *
 * @example
 * app.post('/chat', (req, res, next) => {
 *   llmStream(req, res, (signal) => openai.chat.completions.create({ model, messages, stream: true }, { signal }))
 *     .catch(next);
 * });
 */
export async function llmStream(
  req: IncomingMessage,
  res: ServerResponse,
  source: LLMSource,
  options: LLMStreamOptions = {},
): Promise<LLMResult> {
  let opts: Normalized;
  try {
    opts = normalize(options);
  } catch (error) {
    discard(source);
    throw error;
  }
  const g = new Generation();
  const unregister = opts.registry?.register(g, opts.owner);
  // 'close' on the response, not the request: the request's fires as soon as a POST body is read.
  // With resume, a disconnect is not a stop: the model runs on (bounded) for a reconnect.
  g.keepRunningMs = opts.resumeSettings?.keepRunningMs;
  const leave = g.join();
  const onClose = () => {
    if (res.writableFinished) return;
    if (leave) leave();
    else g.abort();
  };
  res.once('close', onClose);
  const report = (error: unknown) => {
    try {
      opts.onError?.(error);
    } catch {
      // The last-resort hook itself failed: there is nobody left to tell, and the response is over.
    }
  };
  let failure: unknown;
  try {
    try {
      opts.onStart?.(g.id);
    } catch (error) {
      discard(source);
      throw error;
    }
    await deliver(req, res, g, source, opts);
  } catch (error) {
    failure = error;
  } finally {
    res.off('close', onClose);
    g.stopClock();
    unregister?.();
  }
  if (failure !== undefined) {
    // Only a failure before the first byte arrives here; one after it was reported via onError.
    g.error ??= toLLMStreamError(failure);
  } else if (g.error && g.opened) {
    report(g.error);
  }
  const result = g.result();
  try {
    await opts.onFinish?.(result);
  } catch (error) {
    report(error);
  }
  if (failure !== undefined) throw g.error;
  return result;
}
