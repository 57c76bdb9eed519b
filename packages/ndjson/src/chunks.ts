import { finished, Readable } from 'node:stream';

/** One piece of NDJSON input: bytes (UTF-8) or text. */
export type NDJSONChunk = Uint8Array | string;

/** Structural web `ReadableStream`, so both DOM and Node typings are accepted. */
export interface NDJSONReadableStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: NDJSONChunk | undefined }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/**
 * Anything chunked that carries NDJSON: a Node Readable, a web ReadableStream, an (async) iterable
 * of bytes or strings, or one whole string/buffer.
 */
export type NDJSONSource =
  | AsyncIterable<NDJSONChunk>
  | Iterable<NDJSONChunk>
  | NDJSONReadableStream
  | NDJSONChunk;

/** Throws at the call (not at the first read) when `source` cannot be a source. */
export function checkSource(source: unknown): asserts source is NDJSONSource {
  if (typeof source === 'string' || source instanceof Uint8Array) return;
  const ok =
    typeof source === 'object' &&
    source !== null &&
    (Symbol.asyncIterator in source || Symbol.iterator in source || typeof (source as NDJSONReadableStream).getReader === 'function');
  if (!ok) {
    throw new TypeError('parseNDJSON: source must be a Readable, a ReadableStream, an (async) iterable of chunks, a string or a Uint8Array');
  }
}

type ChunkIterator = AsyncIterator<NDJSONChunk> | Iterator<NDJSONChunk>;

function iteratorOf(source: Exclude<NDJSONSource, NDJSONChunk>): ChunkIterator {
  // Web streams first: reader.cancel() settles a pending read at once, their iterator's return() does not.
  if ('getReader' in source && typeof source.getReader === 'function') {
    const reader = source.getReader();
    return {
      next: async () => {
        const { done, value } = await reader.read();
        return done ? { done: true, value: undefined } : { done: false, value: value as NDJSONChunk };
      },
      return: async () => {
        await reader.cancel();
        reader.releaseLock();
        return { done: true, value: undefined };
      },
    };
  }
  if (isNodeReadable(source)) return new ReadableChunks(source);
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return (source as Iterable<NDJSONChunk>)[Symbol.iterator]();
}

function isNodeReadable(source: object): source is Readable {
  const readable = source as Partial<Readable>;
  return typeof readable.read === 'function' && typeof readable.on === 'function' && typeof readable.destroy === 'function' && typeof readable.pipe === 'function';
}

/**
 * A Node Readable read as Node's own async iterator does (`read()` until null, then wait for
 * 'readable' or the end), without that iterator's async generator: one promise per chunk instead
 * of a generator step's several. `return()` destroys the stream, which ends a pending read and
 * closes the resource (the generator's return() would wait for a chunk that may never come).
 * Listeners are removed once the stream has ended, failed or been let go.
 */
class ReadableChunks implements AsyncIterator<NDJSONChunk> {
  private wake: (() => void) | undefined;
  /** undefined while the stream is open; null once it has ended; the error it failed with. */
  private outcome: unknown = undefined;
  private readonly unwatch: () => void;

  constructor(private readonly stream: Readable) {
    stream.on('readable', this.onReadable);
    // finished() reports a stream destroyed before its end as ERR_STREAM_PREMATURE_CLOSE, as the iterator does.
    this.unwatch = finished(stream, { writable: false }, (error) => {
      this.outcome = error ?? null;
      this.onReadable();
    });
  }

  private readonly onReadable = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  async next(): Promise<IteratorResult<NDJSONChunk>> {
    const { stream } = this;
    for (;;) {
      const chunk: NDJSONChunk | null = stream.destroyed ? null : stream.read();
      if (chunk !== null) return { done: false, value: chunk };
      if (this.outcome !== undefined) {
        this.release();
        if (this.outcome === null) return { done: true, value: undefined };
        throw this.outcome;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<NDJSONChunk>> {
    this.stream.destroy();
    this.release();
    return { done: true, value: undefined };
  }

  private release(): void {
    this.stream.off('readable', this.onReadable);
    this.unwatch();
  }
}

// Kept for its hidden class, as the idle instances in iterator.ts are: once every reader had died in
// a full GC, V8 forgot the class and the feedback naming it, and byteChunks (into which next() is
// inlined) was thrown away at the end of the next parse and compiled again. Its stream never ends.
export const idleReader = new ReadableChunks(new Readable({ read() {} }));

/** Awaits `promise` unless `signal` aborts first, so a silent source cannot outlive its abort. */
function raceAbort<T>(promise: Promise<T> | T, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`parseNDJSON: chunks must be Uint8Array or string, got ${chunk === null ? 'null' : typeof chunk}`);
}

/**
 * Normalises any source to Buffers. Strings are encoded to UTF-8; a high surrogate at the end of a
 * string chunk is held back so a pair split across two chunks is not turned into two U+FFFD.
 */
export async function* byteChunks(source: NDJSONSource, signal?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  if (typeof source === 'string') return yield Buffer.from(source, 'utf8');
  if (source instanceof Uint8Array) return yield toBuffer(source);
  const iterator = iteratorOf(source);
  let carry = '';
  let finished = false;
  try {
    for (;;) {
      const result = signal ? await raceAbort(iterator.next(), signal) : await iterator.next();
      if (result.done) break;
      const chunk = result.value;
      if (typeof chunk === 'string') {
        let text = carry + chunk;
        carry = '';
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          carry = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text.length > 0) yield Buffer.from(text, 'utf8');
      } else {
        if (carry) yield Buffer.from(carry, 'utf8');
        carry = '';
        yield toBuffer(chunk);
      }
    }
    finished = true;
    if (carry) yield Buffer.from(carry, 'utf8');
  } finally {
    // Early exit (break, error, abort): release the source. Not awaited after an abort, since a
    // generator source stuck in an await would never settle its return().
    if (!finished && iterator.return) {
      const closing = Promise.resolve(iterator.return()).catch(() => undefined);
      if (!signal?.aborted) await closing;
    }
  }
}
