import type { StoredEvent } from '../types.js';
import { compareIds, fromEntry } from './entry.js';
import type { Followed } from './follower.js';

/** An `XREAD` reply: per stream key, its new entries in id order. */
export type Entries = [key: string, entries: [id: string, fields: string[]][]][];

/**
 * Hands one read's entries to the subscribers of each stream, in order, advancing its cursor.
 * Each entry is decoded and framed once for all of them. A subscriber is skipped up to its
 * `floor` (events that were in the stream before it subscribed), so the shared read never
 * repeats to it what its client already has.
 */
export function deliver(reply: Entries, streams: Map<string, Followed>, report: (error: unknown) => void): void {
  for (const [key, entries] of reply) {
    const followed = streams.get(key);
    if (!followed) continue;
    for (const [id, fields] of entries) {
      if (compareIds(id, followed.cursor) <= 0) continue;
      followed.cursor = id;
      if (followed.added !== undefined) followed.added++;
      let stored: StoredEvent | undefined;
      for (const follow of [...followed.follows]) {
        if (follow.floor !== undefined) {
          if (compareIds(id, follow.floor) <= 0) continue;
          follow.floor = undefined;
        }
        try {
          stored ??= fromEntry(id, fields);
          follow.onEvent(stored);
        } catch (error) {
          report(error); // one failing subscriber must not starve the others
        }
      }
    }
  }
}
