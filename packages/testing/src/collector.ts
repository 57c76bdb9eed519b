import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One event as a client received it. */
export interface CollectedEvent {
  /** The event type; `'message'` when the frame had no `event:` field, as in a browser. */
  event: string;
  /** The data, lines joined with `\n`, exactly as EventSource would deliver it. */
  data: string;
  /** The `id:` field of this frame, if it had one. */
  id: string | undefined;
  /** Milliseconds from the start of the request to the arrival of the chunk holding this event. */
  at: number;
}

/** A comment line (`: text`) as a client received it. */
export interface CollectedComment {
  text: string;
  at: number;
}

/** Everything read so far from one SSE response. */
export interface SSECollection {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: CollectedEvent[];
  comments: CollectedComment[];
  /** Every `retry:` value received, in order. */
  retries: number[];
  /** True when the server ended the response; false when it was cut or we stopped reading. */
  complete: boolean;
}

/** Parses SSE text chunks into a collection, timestamping each event at arrival. */
export function createCollector(t0: number) {
  const collection: SSECollection = { status: 0, headers: {}, events: [], comments: [], retries: [], complete: false };
  let now = 0;
  let onEvent: ((event: CollectedEvent) => void) | undefined;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      const event = { event: message.event ?? 'message', data: message.data, id: message.id, at: now };
      collection.events.push(event);
      onEvent?.(event);
    },
    onComment: (text) => collection.comments.push({ text, at: now }),
    onRetry: (ms) => collection.retries.push(ms),
  });
  return {
    collection,
    feed(text: string) {
      now = Date.now() - t0;
      parser.feed(text);
    },
    onEvent(fn: (event: CollectedEvent) => void) {
      onEvent = fn;
    },
  };
}
