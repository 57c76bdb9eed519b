import type { SSECollection } from './collector.js';

/** Thrown when a collector did not get what it waited for in time; carries what did arrive. */
export class TestingTimeoutError extends Error {
  override readonly name = 'TestingTimeoutError';
  readonly code = 'TIMEOUT' as const;
  constructor(
    message: string,
    /** What was received before the timeout. */
    readonly received: SSECollection | unknown[],
  ) {
    super(message);
  }
}
