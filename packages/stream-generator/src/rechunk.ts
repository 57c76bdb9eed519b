import { StreamTypeError, chunkError } from './errors.js';
import type { Chunk } from './types.js';

/**
 * Re-slices a byte source into chunks of exactly `bytes` bytes; the last chunk holds what is left
 * (1 to `bytes` bytes) and is omitted when nothing is. Strings are encoded as UTF-8, so a chunk
 * boundary may fall inside a multi-byte character. Chunks that already cover a whole output chunk
 * are passed on as views (`subarray`), not copied. Stopping early stops `source` too.
 *
 * @throws {StreamTypeError} `ERR_INVALID_OPTION` at once when `bytes` is not a positive integer.
 */
export function rechunk(source: Iterable<Chunk> | AsyncIterable<Chunk>, bytes: number): AsyncGenerator<Buffer, void, undefined> {
  if (!(Number.isSafeInteger(bytes) && bytes > 0))
    throw new StreamTypeError('ERR_INVALID_OPTION', `rechunk(source, bytes): bytes must be a positive integer, got ${String(bytes)}`);
  if (source === null || typeof source !== 'object' || !(Symbol.asyncIterator in source || Symbol.iterator in source))
    throw new StreamTypeError('ERR_INVALID_SOURCE', 'rechunk(source, bytes): source must be an iterable or async iterable of chunks');
  return slices(source, bytes);
}

async function* slices(source: Iterable<Chunk> | AsyncIterable<Chunk>, size: number): AsyncGenerator<Buffer, void, undefined> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) throw chunkError(chunk, 'rechunk()');
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (held + buf.length < size) {
      if (buf.length > 0) parts.push(buf);
      held += buf.length;
      continue;
    }
    // Complete the held partial chunk, then pass whole chunks straight from `buf`.
    if (held > 0) {
      const need = size - held;
      parts.push(buf.subarray(0, need));
      buf = buf.subarray(need);
      const whole = Buffer.concat(parts, size);
      parts = [];
      held = 0;
      yield whole;
    }
    while (buf.length >= size) {
      yield buf.subarray(0, size);
      buf = buf.subarray(size);
    }
    if (buf.length > 0) {
      parts.push(buf);
      held = buf.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}
