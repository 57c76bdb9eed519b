import type { SSEEvent } from '@sluice/sse-encoder';
import type { EventStore } from './types.js';

/**
 * Appends an event to `stream` in `store`, which broadcasts it to every `resume()` client
 * following that stream. A string is the event's data.
 * @returns the id the store assigned.
 */
export async function publish(store: EventStore, stream: string, event: SSEEvent | string): Promise<string> {
  return store.append(stream, typeof event === 'string' ? { data: event } : event);
}
