import type { Request } from 'express';

interface RouteLayer {
  handle?: unknown;
  method?: string;
}

/**
 * For middleware that owns a stream and may be mounted last (keepalive(), resume()): whether Express
 * will run another handler of the current route after `self`: `true`/`false`
 * when `self` is a handler of `req.route` (app.get(path, ...handlers)), `undefined` otherwise
 * (mounted with app.use). A stream middleware must not call `next()` when nothing follows: an
 * app's catch-all 404 handler would then try to answer a response whose headers are already sent,
 * and Express destroys the socket on the resulting error.
 */
export function routeContinuesAfter(req: Request, self: unknown): boolean | undefined {
  const stack = (req.route as { stack?: RouteLayer[] } | undefined)?.stack;
  if (!Array.isArray(stack)) return undefined;
  const at = stack.findIndex((layer) => layer.handle === self);
  if (at === -1) return undefined;
  const method = req.method.toLowerCase();
  return stack
    .slice(at + 1)
    .some((layer) => layer.method === undefined || layer.method === method || (method === 'head' && layer.method === 'get'));
}
