import { StreamTypeError, describe } from './errors.js';
import type { BodySource, WebReadableStream } from './types.js';

/** One pull's outcome (an `IteratorResult`, or a web reader's `{ done, value }`). */
export interface Step {
  done?: boolean;
  value?: unknown;
}

/** A source reduced to what the pump needs: a sync or async `next()`, and a way to stop it early. */
export type Puller =
  | { sync: true; next: () => Step; release: () => void }
  | { sync: false; next: () => PromiseLike<Step>; release: () => void };

interface NodeReadableLike extends AsyncIterable<unknown> {
  pipe: unknown;
  destroy(error?: Error): unknown;
}

const has = (value: unknown, key: PropertyKey): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Record<PropertyKey, unknown>)[key] === 'function';

/**
 * Adapts any body source. `release` never throws and never waits: an async generator parked on an
 * await only finishes once that await settles (which is what the AbortSignal is for), so its
 * `return()` is requested, not awaited; a failing cleanup is reported through `report`.
 */
export function toPuller(source: BodySource, report: (error: unknown) => void): Puller {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    let done = false;
    const next = (): Step => (done ? { done, value: undefined } : ((done = true), { done: false, value: source }));
    return { sync: true, next, release: () => void (done = true) };
  }
  if (has(source, 'getReader')) {
    // Web streams: cancel() settles a pending read at once, unlike the async iterator's return().
    const reader = (source as WebReadableStream).getReader();
    return { sync: false, next: () => reader.read(), release: () => void reader.cancel().catch(report) };
  }
  if (has(source, Symbol.asyncIterator)) {
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    if (has(source, 'pipe') && has(source, 'destroy')) {
      // Node Readable: destroy() ends a pending read and closes the underlying resource (fd, socket).
      const readable = source as NodeReadableLike;
      return { sync: false, next: () => iterator.next(), release: () => void readable.destroy() };
    }
    const release = () => {
      try {
        Promise.resolve(iterator.return?.()).catch(report);
      } catch (error) {
        report(error);
      }
    };
    return { sync: false, next: () => iterator.next(), release };
  }
  if (has(source, Symbol.iterator)) {
    const iterator = (source as Iterable<unknown>)[Symbol.iterator]();
    const release = () => {
      try {
        iterator.return?.();
      } catch (error) {
        report(error);
      }
    };
    return { sync: true, next: () => iterator.next(), release };
  }
  throw new StreamTypeError(
    'ERR_INVALID_SOURCE',
    `stream(): cannot stream ${describe(source)}; expected an iterable or async iterable of chunks, a Node Readable, a web ReadableStream, a string/Buffer, or a function (signal) => one of those`,
  );
}

/** Releases a source that will not be read (HEAD, client already gone, bad options); never throws. */
export function discard(source: BodySource, report: (error: unknown) => void): void {
  try {
    toPuller(source, report).release();
  } catch {
    // Not a source at all: nothing was opened, so nothing to release.
  }
}
