import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSSEStream, type SSEEvent, type SSEStream } from '@sluice/sse-encoder';
import { keepalive } from '@sluice/sse-keepalive';
import type { Generation } from '../generation.js';
import type { Normalized } from '../options.js';
import type { Encoder } from '../protocols/encoder.js';
import { openUnits } from '../run.js';

const noop = () => {};

/**
 * Writes an SSE-framed protocol. The response is held until the first output (so early failures
 * stay HTTP errors) or until `waitForOutputMs`, when it opens and keep-alive takes over. Each unit
 * is awaited for backpressure: the upstream is not read while the socket is full.
 * @internal
 */
export async function sendSSE(
  req: IncomingMessage,
  res: ServerResponse,
  g: Generation,
  units: AsyncGenerator<SSEEvent, void, undefined>,
  encoder: Encoder<SSEEvent>,
  options: Normalized,
  headers: Record<string, string>,
): Promise<void> {
  let sse: SSEStream | undefined;
  const commit = (): SSEStream => {
    if (sse) return sse;
    sse = createSSEStream(req, res, { headers });
    // The stream can also be closed by others (a HEAD request, keepalive's maxDurationMs): stop the model then too.
    sse.signal.addEventListener('abort', () => g.abort(), { once: true });
    if (options.keepaliveMs > 0) {
      // The keep-alive middleware used as a function: it watches this stream until it closes.
      keepalive({ intervalMs: options.keepaliveMs, scheduler: options.scheduler })(req as never, res as never, noop);
    }
    return sse;
  };
  const openNow = () => {
    if (g.opened || g.aborted || g.ending) return;
    const stream = commit();
    for (const unit of openUnits(g, encoder)) void stream.send(unit);
  };
  // Someone already sent the headers (an `sse()`/`keepalive()` mount): nothing left to hold.
  let timer: NodeJS.Timeout | undefined;
  if (options.waitForOutputMs === 0 || res.headersSent) openNow();
  else timer = setTimeout(openNow, options.waitForOutputMs).unref();
  try {
    for await (const unit of units) await commit().send(unit);
  } finally {
    clearTimeout(timer);
    if (sse && !g.aborted) sse.close();
  }
}
