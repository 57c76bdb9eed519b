import type { Express, Response } from 'express';
import { MemoryEventStore, publish, resume } from '@sluice/sse-resume';
import { serve, waitUntil, type Served } from './helpers.js';

/**
 * A resumable feed whose server drops the first connection mid-stream (socket destroyed, like a
 * crash or a proxy cut) while it keeps publishing, so a real client must reconnect by itself
 * after `retry:` and resume with Last-Event-ID.
 */
export interface FlakyFeed {
  server: Served;
  store: MemoryEventStore;
  /** Last-Event-ID header of every request to /feed, in order (undefined for the first). */
  lastEventIds: (string | undefined)[];
  /** Publishes 1..total, one every `everyMs`, dropping the first connection after `dropAt`. */
  run(total: number, dropAt: number, everyMs?: number): Promise<void>;
}

export async function flakyFeed(app: Express, retryMs: number): Promise<FlakyFeed> {
  const store = new MemoryEventStore({ maxEvents: 1000 });
  const lastEventIds: (string | undefined)[] = [];
  const connections: Response[] = [];
  app.get(
    '/feed',
    (req, res, next) => {
      lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      connections.push(res);
      next();
    },
    resume({ store, stream: 'feed', retryMs }),
  );
  const server = await serve(app);
  return {
    server,
    store,
    lastEventIds,
    async run(total, dropAt, everyMs = 10) {
      await waitUntil(() => store.subscriberCount('feed') === 1, 20_000);
      for (let i = 1; i <= total; i++) {
        await publish(store, 'feed', String(i));
        if (i === dropAt) connections[0]!.socket?.destroy();
        await new Promise((r) => setTimeout(r, everyMs));
      }
    },
  };
}
