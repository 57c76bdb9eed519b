import type { RequestHandler } from 'express';
import { createSSEStream, routeContinuesAfter } from '@sluice/sse-encoder';
import { normalize, resolutionFor, type KeepaliveOptions } from './options.js';
import { KeepaliveScheduler } from './scheduler.js';

/**
 * Middleware that keeps a Server-Sent Events stream alive through proxies: it writes a comment
 * (`: ping`) only after `intervalMs` of silence on that stream, and stops when the stream closes.
 * Opens the stream itself (as `res.sse`) if `sse()` did not run first; mount `sse(options)` before
 * it when you need the encoder's options. Calls `next()` unless it is the last handler of its route.
 *
 * All streams of one `keepalive()` call share one scheduler with a single unref'd timer (pass
 * `scheduler` to share it between calls too); no per-connection `setInterval`.
 */
export function keepalive(options: KeepaliveOptions = {}): RequestHandler {
  const policy = normalize(options);
  const enabled =
    policy.intervalMs > 0 || policy.idleTimeoutMs !== Infinity || policy.maxDurationMs !== Infinity;
  // Created at the first request rather than at import or factory time: an app that never serves
  // a stream never holds a scheduler.
  let scheduler = options.scheduler;
  return function keepalive(req, res, next) {
    const stream = createSSEStream(req, res);
    res.sse = stream;
    if (enabled) {
      scheduler ??= new KeepaliveScheduler({ resolutionMs: resolutionFor(policy) });
      scheduler.watch(stream, res, policy);
    }
    // Last handler of its route (e.g. after resume()): the stream is complete as it is.
    if (routeContinuesAfter(req, keepalive) !== false) next();
  };
}
