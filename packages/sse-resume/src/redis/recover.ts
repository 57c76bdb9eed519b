import type { Redis } from 'ioredis';
import { RedisEventStoreError } from './errors.js';
import type { Followed } from './follower.js';
import type { RedisSettings } from './options.js';

/** Resolves true once `conn` is ready again, false if `signal` aborts first. */
export function waitReady(conn: Redis, signal: AbortSignal): Promise<boolean> {
  if (conn.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      conn.off('ready', onReady);
      signal.removeEventListener('abort', onAbort);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onAbort = () => done(false);
    conn.on('ready', onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A field of an `XINFO STREAM` reply (a flat name/value list). */
export function infoField(info: unknown, name: string): unknown {
  const list = Array.isArray(info) ? (info as unknown[]) : [];
  const at = list.indexOf(name);
  return at >= 0 ? list[at + 1] : undefined;
}

/** Where a stream stands: its last id and how many entries it ever had (`entries-added`). */
export async function streamHead(client: Redis, key: string): Promise<{ lastId: string; added: number | undefined }> {
  try {
    const info = await client.xinfo('STREAM', key);
    const added = infoField(info, 'entries-added');
    return { lastId: String(infoField(info, 'last-generated-id')), added: added === undefined ? undefined : Number(added) };
  } catch (error) {
    if (/no such key/i.test(String((error as Error)?.message))) return { lastId: '0-0', added: 0 };
    throw error;
  }
}

/**
 * Streams whose undelivered events are gone: trimmed before the reader got them, or lost in a
 * Redis restart without persistence. Trimming records no ids, so this counts instead: the
 * entries after the cursor (`entries-added` now minus at the cursor) must all still be retained
 * (`length`), trimming taking the oldest first. Reading on would otherwise skip them silently.
 * Needs Redis ≥ 7 (`entries-added`); on older servers nothing is reported.
 */
export async function checkGaps(conn: Redis, streams: Map<string, Followed>): Promise<[string, Error][]> {
  const gaps: [string, Error][] = [];
  for (const [key, followed] of streams) {
    if (followed.added === undefined) continue;
    let problem: string | undefined;
    try {
      const info = await conn.xinfo('STREAM', key).catch((error: unknown) => {
        if (/no such key/i.test(String((error as Error)?.message))) return undefined;
        throw error;
      });
      const added = info ? Number(infoField(info, 'entries-added')) : 0;
      const length = info ? Number(infoField(info, 'length')) : 0;
      if (added < followed.added) problem = `${key} was reset (Redis restarted without persistence?)`;
      else if (length < added - followed.added) problem = `events of ${key} after ${followed.cursor} were trimmed before they were read`;
    } catch (error) {
      problem = `could not check ${key}: ${String((error as Error)?.message)}`;
    }
    if (problem) gaps.push([key, new RedisEventStoreError('GAP', problem)]);
  }
  return gaps;
}

/**
 * Whether entries after the cursor may have been trimmed before a read that returned `length`
 * of them: only when it is as long as the retention (MAXLEN), or the cursor is older than
 * `ttlMs` (MINID). Then {@link checkGaps} tells for sure; the common case costs no command.
 */
export function mayHaveGap(
  followed: Followed | undefined,
  length: number,
  { maxEvents, ttlMs }: Pick<RedisSettings, 'maxEvents' | 'ttlMs'>,
  readCount: number,
): boolean {
  if (!followed) return false;
  if (length >= Math.min(maxEvents, readCount)) return true;
  return ttlMs !== undefined && Number(followed.cursor.split('-')[0]) < Date.now() - ttlMs;
}
