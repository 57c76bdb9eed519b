import type { Redis } from 'ioredis';
import type { ReadResult, StoredEvent } from '../types.js';
import { compareIds, fromEntry, isStreamId } from './entry.js';
import { RedisEventStoreError } from './errors.js';
import { infoField } from './recover.js';

type Entry = [id: string, fields: string[]];

export interface Retention {
  readonly maxEvents: number;
  readonly exactTrim: boolean;
  readonly ttlMs: number | undefined;
}

/** `XADD` with `MAXLEN` retention, plus `MINID` and key expiry in one `MULTI` when `ttlMs` is set. */
export async function add(client: Redis, key: string, fields: string[], { maxEvents, exactTrim, ttlMs }: Retention): Promise<string> {
  const trim = ['MAXLEN', exactTrim ? '=' : '~', maxEvents] as const;
  if (ttlMs === undefined) return (await client.xadd(key, ...trim, '*', ...fields))!;
  const tx = client.multi().xadd(key, ...trim, '*', ...fields);
  if (exactTrim) tx.xtrim(key, 'MINID', minId(ttlMs));
  else tx.xtrim(key, 'MINID', '~', minId(ttlMs));
  const replies = await tx.pexpire(key, ttlMs).exec();
  return String(checkReplies(replies)[0]);
}

/** `XRANGE` after `lastId`, placing it as the {@link ReadResult} statuses describe. */
export async function rangeAfter(client: Redis, key: string, lastId: string | undefined, ttlMs: number | undefined): Promise<ReadResult> {
  const tx = client.multi();
  if (ttlMs !== undefined) tx.xtrim(key, 'MINID', minId(ttlMs));
  const known = lastId !== undefined && isStreamId(lastId);
  // The entry itself, and what follows it: atomic, so a trim between them cannot mislead.
  if (known) tx.xrange(key, lastId, lastId).xrange(key, `(${lastId}`, '+');
  else tx.xrange(key, '-', '+');
  const replies = checkReplies(await tx.exec()).slice(ttlMs === undefined ? 0 : 1) as Entry[][];
  if (lastId === undefined) return { status: 'ok', events: replies[0]!.map(decode) };
  if (!known) return { status: 'malformed', events: replies[0]!.map(decode) };
  const [self, after] = replies as [Entry[], Entry[]];
  if (self.length > 0) return { status: 'ok', events: after.map(decode) };
  // Rare path (a trimmed or foreign id): one more round trip to place it.
  const [[, range], [infoError, info]] = (await client.multi().xrange(key, '-', '+').xinfo('STREAM', key).exec()) ?? [[], []];
  const all = ((range ?? []) as Entry[]).map(decode);
  // Older than everything retained (or a vanished stream): ours, but trimmed. Redis keeps no
  // trimmed ids, so even the entry right before the first retained one reads as expired (the
  // client then gets a reset and every retained event: still all it missed).
  const first = all[0]?.id;
  const last = infoError ? undefined : String(infoField(info, 'last-generated-id'));
  const expired = first === undefined ? last === undefined || compareIds(lastId, last) <= 0 : compareIds(lastId, first) < 0;
  return { status: expired ? 'expired' : 'unknown', events: all };
}

function decode([id, fields]: Entry): StoredEvent {
  return fromEntry(id, fields);
}

function minId(ttlMs: number): string {
  return `${Math.max(0, Date.now() - ttlMs)}-0`;
}

function checkReplies(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new RedisEventStoreError('READ_FAILED', 'Redis transaction was aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
