import { NDJSONSerializeError } from './errors.js';

/** Values for an NDJSON response: any sync or async iterable (a generator, a DB cursor, an object-mode Readable). */
export type NDJSONValues<T = unknown> = Iterable<T> | AsyncIterable<T>;

/** Turns one value into its line; throws {@link NDJSONSerializeError}. */
export type Serialize = (value: unknown, index: number) => string;

export function serializer(replacer: ((this: unknown, key: string, value: unknown) => unknown) | undefined): Serialize {
  return (value, index) => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value, replacer as (key: string, value: unknown) => unknown);
    } catch (error) {
      throw new NDJSONSerializeError(index, error);
    }
    // undefined, functions and symbols have no JSON form; skipping them would shift every index.
    if (typeof json !== 'string') throw new NDJSONSerializeError(index);
    // JSON.stringify escapes CR and LF inside strings, so a value is always exactly one line.
    return `${json}\n`;
  };
}

/** Called when the values fail after at least one line: returns the in-band error line, or undefined to fail the response. */
export type OnFailure = (error: unknown, linesSent: number) => string | undefined;

const DONE: IteratorResult<string, undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Maps values to lines without a generator in between, so `return()` reaches the source at once
 * (stream-generator calls it when the client goes away) and the sync path stays sync.
 */
export function checkValues(values: unknown): asserts values is NDJSONValues {
  if (typeof values === 'string' || values instanceof Uint8Array) {
    throw new TypeError('ndjson(): the source must be an iterable of values, not text or bytes (to send text that already is NDJSON, use stream() from @sluice/stream-generator)');
  }
  if (typeof values !== 'object' || values === null || !(Symbol.asyncIterator in values || Symbol.iterator in values)) {
    throw new TypeError('ndjson(): the source must be an iterable or async iterable of values, or a function (signal) => one of those');
  }
}

export function toLines(values: NDJSONValues, serialize: Serialize, onFailure: OnFailure): Iterable<string> | AsyncIterable<string> {
  checkValues(values);
  let index = 0;
  let ended = false;
  const fail = (error: unknown, close: () => unknown): IteratorResult<string, undefined> => {
    ended = true;
    const line = onFailure(error, index);
    if (line === undefined) throw error;
    void Promise.resolve()
      .then(close)
      .catch(() => undefined);
    return { done: false, value: line };
  };
  const step = (result: IteratorResult<unknown>, close: () => unknown): IteratorResult<string, undefined> => {
    if (result.done) {
      ended = true;
      return DONE;
    }
    let line: string;
    try {
      line = serialize(result.value, index);
    } catch (error) {
      return fail(error, close);
    }
    index++;
    return { done: false, value: line };
  };

  if (Symbol.asyncIterator in values) {
    const it = values[Symbol.asyncIterator]();
    const close = () => it.return?.();
    const iterator: AsyncIterableIterator<string> = {
      next: () => (ended ? Promise.resolve(DONE) : it.next().then((r) => step(r, close), (e: unknown) => fail(e, () => undefined))),
      return: async () => {
        ended = true;
        await close();
        return DONE;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
  const it = values[Symbol.iterator]();
  const close = () => it.return?.();
  const iterator: IterableIterator<string> = {
    next: () => {
      if (ended) return DONE;
      let result: IteratorResult<unknown>;
      try {
        result = it.next();
      } catch (error) {
        return fail(error, () => undefined);
      }
      return step(result, close);
    },
    return: () => {
      ended = true;
      close();
      return DONE;
    },
    [Symbol.iterator]: () => iterator,
  };
  return iterator;
}
