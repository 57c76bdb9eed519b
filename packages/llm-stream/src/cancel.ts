import type { Request, RequestHandler, Response } from 'express';
import type { Generation } from './generation.js';

/** Options for {@link createCancelRegistry}. */
export interface CancelRegistryOptions {
  /**
   * Decides whether this request may cancel a generation started with `llmStream(…, { owner })`,
   * e.g. `(req, owner) => req.user?.id === owner`. Refusal answers 403. May be async; a throw goes
   * to `next(err)`.
   * @defaultValue `undefined` (anyone holding the id may cancel: ids carry 122 random bits)
   */
  authorize?: (req: Request, owner: unknown, id: string) => boolean | Promise<boolean>;
  /**
   * Name of the route parameter that holds the generation id (`/cancel/:id`).
   * @defaultValue `'id'`
   */
  param?: string;
}

/** Running generations by id, and a route that stops one. Create one per app with {@link createCancelRegistry}. */
export interface CancelRegistry {
  /** Stops a running generation: its upstream is aborted and the client receives `cancelled`. False when unknown or finishing. */
  cancel(id: string): boolean;
  /** Whether a generation with this id is running. */
  has(id: string): boolean;
  /** Number of running generations. */
  readonly size: number;
  /**
   * An Express handler for `POST /cancel/:id`: 200 `{ id, cancelled: true }`; 404 JSON for an
   * unknown (or finished) id; 403 JSON when `authorize` refuses; 409 JSON when the generation is
   * already ending.
   */
  route(): RequestHandler;
  /** @internal Used by `resumeGeneration()`: a client follows a running resumable generation; returns its leave function. */
  follow(id: string): (() => void) | undefined;
  /** @internal Used by `llmStream()`; returns the unregister function. */
  register(generation: Generation, owner: unknown): () => void;
}

function reply(res: Response, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(json);
}

const failure = (code: string, message: string) => ({ error: { code, message } });

/**
 * Creates a registry of running generations. Pass it to `llmStream(…, { registry, owner })` and
 * mount its route: `app.post('/cancel/:id', registry.route())`.
 */
export function createCancelRegistry(options: CancelRegistryOptions = {}): CancelRegistry {
  const { authorize, param = 'id' } = options;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new TypeError('createCancelRegistry({ authorize }) must be a function (req, owner, id) => boolean');
  }
  const running = new Map<string, { generation: Generation; owner: unknown }>();
  const registry: CancelRegistry = {
    cancel: (id) => running.get(id)?.generation.cancel() ?? false,
    has: (id) => running.has(id),
    get size() {
      return running.size;
    },
    follow: (id) => running.get(id)?.generation.join(),
    register(generation, owner) {
      running.set(generation.id, { generation, owner });
      return () => running.delete(generation.id);
    },
    route() {
      return function cancelGeneration(req, res, next) {
        const id = (req.params as Record<string, string | undefined>)[param];
        const entry = typeof id === 'string' ? running.get(id) : undefined;
        if (!entry || id === undefined) {
          return reply(res, 404, failure('not_found', 'No running generation has this id'));
        }
        const decide = async () => (authorize ? authorize(req, entry.owner, id) : true);
        decide().then((allowed) => {
          if (!allowed) return reply(res, 403, failure('forbidden', 'This generation belongs to someone else'));
          if (!entry.generation.cancel()) return reply(res, 409, failure('not_running', 'The generation is already ending'));
          reply(res, 200, { id, cancelled: true });
        }, next);
      };
    },
  };
  return registry;
}
