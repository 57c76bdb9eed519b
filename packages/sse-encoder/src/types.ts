/**
 * One Server-Sent Event. Every field is optional; fields are written in a fixed order (comment,
 * event, id, retry, data) as a single frame.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export interface SSEEvent {
  /**
   * The payload. A string is sent as is (split into one `data:` line per line); any other value is
   * JSON-encoded. `undefined` means no `data:` field, so the client dispatches nothing.
   */
  data?: unknown;
  /** The event type (`event:`); the client's `addEventListener(type)` name. No CR or LF. */
  event?: string;
  /** The event id (`id:`), echoed back by the client as `Last-Event-ID`. No CR, LF or NUL. */
  id?: string | number;
  /** Reconnection delay hint in milliseconds (`retry:`); a non-negative integer. */
  retry?: number;
  /** A comment line (`: text`), ignored by clients. Line breaks start new comment lines. */
  comment?: string;
}

/**
 * An event encoded once, for sending the same frame to many streams (broadcast) without encoding
 * it again for each. Create one with `encodeEvent()`; the frame is guaranteed well-formed.
 */
export interface EncodedEvent {
  /** The complete frame, ending in a blank line. */
  readonly frame: string;
}
