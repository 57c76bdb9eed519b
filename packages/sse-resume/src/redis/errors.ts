/** Stable codes carried by {@link RedisEventStoreError}. */
export type RedisEventStoreErrorCode = 'UNAVAILABLE' | 'TIMEOUT' | 'CLOSED' | 'CONNECTION_LOST' | 'GAP' | 'READ_FAILED';

/**
 * An error from {@link RedisEventStore}:
 * - `UNAVAILABLE`: the client is not connected; the command was not sent (nothing was stored).
 * - `TIMEOUT`: no reply within `timeoutMs`; an append may still have been stored.
 * - `CLOSED`: the store was closed.
 * - `CONNECTION_LOST`: the blocking connection dropped under `onDisconnect: 'end'`.
 * - `GAP`: after a reconnect, events the subscription had not delivered were gone (trimmed, or
 *   Redis restarted without persistence).
 * - `READ_FAILED`: Redis refused the blocking read (e.g. a key that is not a stream).
 */
export class RedisEventStoreError extends Error {
  override readonly name = 'RedisEventStoreError';
  readonly code: RedisEventStoreErrorCode;

  constructor(code: RedisEventStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
