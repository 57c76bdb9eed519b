import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEEvent } from '@sluice/sse-encoder';
import { keepalive } from '@sluice/sse-keepalive';
import { LLMStreamError } from '../errors.js';
import { cancelStreamOf, followGeneration } from '../follow.js';
import type { Generation } from '../generation.js';
import type { Normalized } from '../options.js';
import type { ResumeSettings } from '../resume-options.js';
import type { Encoder } from '../protocols/encoder.js';
import { openUnits } from '../run.js';

/**
 * The `'sse'` protocol with `resume`: every unit is appended to the generation's store stream and
 * the client follows that stream, so a reconnect (to any instance sharing the store) continues
 * after its `Last-Event-ID`. The client is attached at the first output or after
 * `waitForOutputMs`, so a failure before that is still an HTTP error.
 * @internal
 */
export async function sendToStore(
  req: IncomingMessage,
  res: ServerResponse,
  g: Generation,
  units: AsyncGenerator<SSEEvent, void, undefined>,
  encoder: Encoder<SSEEvent>,
  options: Normalized,
  resume: ResumeSettings,
  headers: Record<string, string>,
): Promise<void> {
  const name = resume.streamName(g.id);
  // Cross-instance stop: cancelGeneration() on any instance appends to this control stream. Awaited
  // before the first append, so a cancel that sees the generation cannot miss it. A store failure
  // here only loses the cross-instance cancel (the registry still works): reported, not fatal.
  const unsubscribe = await Promise.resolve(resume.store.subscribe(cancelStreamOf(name), undefined, () => g.cancel())).catch(
    (error: unknown) => void options.onError?.(error),
  );
  // Appends are chained so the opening units (from the timer) and the model's stay in order.
  let tail: Promise<unknown> = Promise.resolve();
  const put = (unit: SSEEvent) => (tail = tail.then(() => resume.store.append(name, unit)));
  let attached = false;
  const attach = () => {
    if (attached || res.headersSent || res.destroyed) return;
    attached = true;
    for (const [key, value] of Object.entries(headers)) res.setHeader(key, value);
    followGeneration(req, res, resume.store, name, () => {});
    if (options.keepaliveMs > 0) {
      // As in sendSSE: the keep-alive middleware used as a function watches the stream resume() opened.
      keepalive({ intervalMs: options.keepaliveMs, scheduler: options.scheduler })(req as never, res as never, () => {});
    }
  };
  const openNow = () => {
    if (g.opened || g.aborted || g.ending) return;
    for (const unit of openUnits(g, encoder)) void put(unit).catch(() => {});
    void tail.then(attach, () => {});
  };
  let timer: NodeJS.Timeout | undefined;
  if (options.waitForOutputMs === 0) openNow();
  else timer = setTimeout(openNow, options.waitForOutputMs).unref();
  try {
    for await (const unit of units) {
      await put(unit);
      attach();
    }
    if (g.aborted && g.opened) {
      // Stopped for lack of clients (keepRunningMs): followers still get one terminal event.
      const out: SSEEvent[] = [];
      encoder.error(new LLMStreamError('timeout', 'The generation was stopped: no client followed it for keepRunningMs'), out);
      for (const unit of out) await put(unit);
    }
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
  }
}
