/** Stable codes of {@link LLMStreamError}. */
export type LLMStreamErrorCode =
  | 'rate_limited'
  | 'overloaded'
  | 'timeout'
  | 'network'
  | 'upstream_error'
  | 'upstream_auth'
  | 'invalid_request'
  | 'invalid_source'
  | 'internal';

/** HTTP status and retry advice per code: what a client should do about it. */
const POLICY: Record<LLMStreamErrorCode, [status: number, retryable: boolean]> = {
  rate_limited: [429, true],
  overloaded: [503, true],
  timeout: [504, true],
  network: [502, true],
  upstream_error: [502, true],
  // The upstream refused our credentials: the server's problem, never the caller's 401.
  upstream_auth: [502, false],
  invalid_request: [400, false],
  invalid_source: [500, false],
  internal: [500, false],
};

/**
 * A model failure, normalised: `code` says what happened, `status` is the HTTP status to answer
 * with (used by Express's error handler when nothing was sent yet), `retryable` whether sending
 * the same request again may succeed. The original error is the `cause`.
 */
export class LLMStreamError extends Error {
  override readonly name = 'LLMStreamError';
  readonly code: LLMStreamErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Milliseconds the upstream asked to wait before retrying (`Retry-After`), if it said. */
  readonly retryAfterMs: number | undefined;
  /** Response headers for Express's error handler (finalhandler sends `err.headers`). */
  readonly headers: Record<string, string> | undefined;
  /** Lets error handlers (http-errors convention) show `message` to the client. */
  readonly expose = true;

  constructor(code: LLMStreamErrorCode, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    const [status, retryable] = POLICY[code];
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.headers =
      options.retryAfterMs === undefined ? undefined : { 'Retry-After': String(Math.ceil(options.retryAfterMs / 1000)) };
  }
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  code?: unknown;
  type?: unknown;
  cause?: unknown;
  headers?: unknown;
  error?: { type?: unknown; code?: unknown; message?: unknown; error?: { type?: unknown; message?: unknown } };
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ETIMEDOUT']);

function retryAfter(headers: unknown): number | undefined {
  const get = (headers as { get?: (name: string) => string | null } | undefined)?.get;
  const value = typeof get === 'function' ? get.call(headers, 'retry-after') : undefined;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function codeOf(err: ErrorLike): LLMStreamErrorCode {
  const status = typeof err.status === 'number' ? err.status : undefined;
  // Mid-stream SDK errors carry no status, only the body's error type (Anthropic `overloaded_error`,
  // OpenAI `server_error`, …), on the error itself or in its body.
  const type = String(err.type ?? err.error?.type ?? err.error?.error?.type ?? err.error?.code ?? '');
  const code = String(err.code ?? (err.cause as ErrorLike | undefined)?.code ?? '');
  // The openai SDK leaves `name` as 'Error'; its class names still tell timeouts from connection errors.
  const name = `${String(err.name ?? '')} ${String((err as { constructor?: { name?: unknown } }).constructor?.name ?? '')}`;
  if (status === 429 || /rate_limit/.test(type)) return 'rate_limited';
  if (status === 529 || status === 503 || /overloaded/.test(type)) return 'overloaded';
  if (status === 408 || status === 504 || /timeout/i.test(name) || /timeout/.test(type))
    return 'timeout';
  if (status === 401 || status === 403 || /authentication|permission/.test(type)) return 'upstream_auth';
  if (status === 400 || status === 413 || status === 422 || /invalid_request|request_too_large/.test(type))
    return 'invalid_request';
  if ((status !== undefined && status >= 500) || /server_error|api_error/.test(type)) return 'upstream_error';
  if (status !== undefined && status >= 400) return 'upstream_error';
  // undici: a body cut mid-way rejects with TypeError('terminated'); a refused connect with 'fetch failed'.
  if (NETWORK_CODES.has(code) || /ConnectionError/.test(name) || /^(terminated|fetch failed)$/.test(String(err.message)))
    return 'network';
  return 'internal';
}

const REDACTED: Partial<Record<LLMStreamErrorCode, string>> = {
  upstream_auth: 'The model provider refused this server\'s credentials',
  internal: 'Internal error while generating',
};

/**
 * Maps any upstream failure (SDK errors, fetch errors, Anthropic `error` events) to an
 * {@link LLMStreamError}. The original error is its `cause` (log that; `message` is what clients see).
 */
export function toLLMStreamError(error: unknown): LLMStreamError {
  if (error instanceof LLMStreamError) return error;
  const err = (error !== null && typeof error === 'object' ? error : { message: String(error) }) as ErrorLike;
  // SDK errors built from a stream's error body stringify the whole body into `message`; the
  // body's own message (OpenAI `error.message`, Anthropic `error.error.message`) reads better.
  const candidates = [err.error?.error?.message, err.error?.message, err.message];
  const message = (candidates.find((m) => typeof m === 'string' && m !== '') as string | undefined) ?? 'Upstream model error';
  const code = codeOf(err);
  // These messages reach the client (error events, error responses): a provider's auth message
  // can quote part of the API key, and an arbitrary exception can describe server internals.
  const safe = REDACTED[code] ?? message;
  return new LLMStreamError(code, safe, { cause: error, retryAfterMs: retryAfter(err.headers) });
}
