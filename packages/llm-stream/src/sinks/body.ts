import type { ServerResponse } from 'node:http';
import { stream } from '@sluice/stream-generator';
import type { Generation } from '../generation.js';

/**
 * Writes a non-SSE protocol (`'text'`, `'ndjson'`) through stream-generator, which brings
 * backpressure, coalescing and "error before the first byte rejects, after it cuts the socket".
 * @internal
 */
export function sendBody(
  res: ServerResponse,
  g: Generation,
  units: AsyncGenerator<string, void, undefined>,
  contentType: string,
  headers: Record<string, string>,
): Promise<void> {
  return stream(
    res,
    (signal) => {
      // stream-generator's own signal fires when the client leaves: stop the upstream too.
      signal.addEventListener('abort', () => g.abort(), { once: true });
      return units;
    },
    // A failure after the first byte cuts the socket; llmStream() reports it (g.error), once.
    { contentType, headers, onError: () => {} },
  );
}
