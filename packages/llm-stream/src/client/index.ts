import { createEventParser, type ParsedEvent } from './parse.js';

/** Stable codes of {@link StreamTokensError}. */
export type StreamTokensErrorCode = 'http_error' | 'incomplete' | (string & {});

/**
 * The generation failed: `code` is the server's (`rate_limited`, `overloaded`, `timeout`, …),
 * `'http_error'` for a non-2xx answer, or `'incomplete'` when the stream ended without a terminal
 * event. `retryable` says whether sending the request again may succeed.
 */
export class StreamTokensError extends Error {
  override readonly name = 'StreamTokensError';
  constructor(
    readonly code: StreamTokensErrorCode,
    message: string,
    readonly retryable: boolean,
    /** The HTTP status for `'http_error'`. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** How a generation finished (the `done` event). */
export interface TokenStreamDone {
  finishReason: string;
  usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | null;
  characters: number;
}

/** The tokens of one generation: iterate it once with `for await`. */
export interface TokenStream extends AsyncIterable<string> {
  /** The generation id (for a cancel route), once the `start` event arrived. */
  readonly id: string | undefined;
  /** The `done` event, once it arrived. */
  readonly done: TokenStreamDone | undefined;
  /** True when the server reported the generation cancelled (iteration then simply ends). */
  readonly cancelled: boolean;
}

async function httpError(response: Response): Promise<StreamTokensError> {
  let message = `HTTP ${response.status}`;
  try {
    const text = await response.text();
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    message = (typeof body.error === 'object' ? body.error.message : body.error) ?? body.message ?? message;
  } catch {
    // Not JSON (an HTML error page): the status says enough.
  }
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  return new StreamTokensError('http_error', message, retryable, response.status);
}

/**
 * Streams the tokens of an `llmStream()` route (protocol `'sse'`) with `fetch`, in browsers and
 * Node 18+. `init` is passed to `fetch` (method, body, headers, `signal`); aborting the signal
 * stops the request, so the server stops the model, and the iteration throws the `AbortError`.
 * Leaving the loop early (`break`) closes the connection too.
 *
 * @example
 * const controller = new AbortController();
 * for await (const token of streamTokens('/chat', { method: 'POST', body, signal: controller.signal })) output.textContent += token;
 */
export function streamTokens(url: string | URL, init: RequestInit = {}): TokenStream {
  const state = { id: undefined as string | undefined, done: undefined as TokenStreamDone | undefined, cancelled: false };
  let used = false;
  async function* tokens(): AsyncGenerator<string, void, undefined> {
    if (used) throw new TypeError('streamTokens(): a TokenStream can be iterated only once');
    used = true;
    const headers = new Headers(init.headers);
    if (!headers.has('Accept')) headers.set('Accept', 'text/event-stream');
    const response = await fetch(url, { ...init, headers });
    if (!response.ok) throw await httpError(response);
    if (!response.body) throw new StreamTokensError('incomplete', 'The response has no body', true);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const queue: ParsedEvent[] = [];
    const feed = createEventParser((event) => queue.push(event));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        feed(done ? decoder.decode() + '\n\n' : decoder.decode(value, { stream: true }));
        for (const { event, data } of queue.splice(0)) {
          if (event === 'token') yield (JSON.parse(data) as { text: string }).text;
          else if (event === 'start') state.id = (JSON.parse(data) as { id: string }).id;
          else if (event === 'done') return void (state.done = JSON.parse(data) as TokenStreamDone);
          else if (event === 'cancelled') return void (state.cancelled = true);
          else if (event === 'error') {
            const e = JSON.parse(data) as { code: string; message: string; retryable: boolean };
            throw new StreamTokensError(e.code, e.message, e.retryable);
          }
        }
        if (done) throw new StreamTokensError('incomplete', 'The stream ended before the generation finished', true);
      }
    } finally {
      // Closes the connection when the loop is left early (break, throw, abort).
      reader.cancel().catch(() => {});
    }
  }
  return {
    get id() {
      return state.id;
    },
    get done() {
      return state.done;
    },
    get cancelled() {
      return state.cancelled;
    },
    [Symbol.asyncIterator]: () => tokens(),
  };
}
