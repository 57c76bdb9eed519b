import { LLMStreamError } from '../errors.js';
import type { LLMEvent } from '../types.js';
import { fromAnthropic, isAnthropicEvent, type AnthropicEventLike } from './anthropic.js';
import { fromOpenAI, isOpenAIChunk, type OpenAIChunkLike } from './openai.js';

/** One item a model stream may yield: an OpenAI chunk, an Anthropic event, or a piece of text. */
export type LLMChunk = string | OpenAIChunkLike | AnthropicEventLike;

/**
 * A model stream: the SDKs' `Stream` objects (async iterables with a `controller`), any
 * `AsyncIterable`/`Iterable` of chunks (raw event objects or strings), or a promise of one (the
 * SDKs' `create({ stream: true })` result).
 */
export type LLMStreamValue = AsyncIterable<LLMChunk> | Iterable<LLMChunk>;

/**
 * What `llmStream()` reads: a {@link LLMStreamValue}, a promise of one, or a function receiving an
 * `AbortSignal` (aborted when the client leaves or the generation is cancelled) that starts the
 * upstream request with it: `(signal) => openai.chat.completions.create({ …, stream: true }, { signal })`.
 */
export type LLMSource =
  | LLMStreamValue
  | PromiseLike<LLMStreamValue>
  | ((signal: AbortSignal) => LLMStreamValue | PromiseLike<LLMStreamValue>);

/** Appends the events of one upstream item to `out`. @internal */
export type Adapter = (item: never, out: LLMEvent[]) => void;

const fromText = (item: string, out: LLMEvent[]) => {
  if (item !== '') out.push({ type: 'text', text: item });
};

/** Picks the adapter from the first item's shape (no SDK is imported). @internal */
export function detect(item: unknown): { adapter: Adapter; structured: boolean } {
  if (typeof item === 'string') return { adapter: fromText as Adapter, structured: false };
  if (isOpenAIChunk(item)) return { adapter: fromOpenAI as Adapter, structured: true };
  if (isAnthropicEvent(item)) return { adapter: fromAnthropic as Adapter, structured: true };
  const shown = item === null || typeof item !== 'object' ? String(item) : `object with keys ${Object.keys(item).slice(0, 5).join(', ')}`;
  throw new LLMStreamError(
    'invalid_source',
    `llmStream(): the source yielded ${shown}; expected an OpenAI chat.completion.chunk, an Anthropic stream event or a string`,
  );
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

/** An opened upstream: its iterator and how to stop it. @internal */
export interface Upstream {
  iterator: Iterator<unknown> | AsyncIterator<unknown>;
  /** Stops the upstream request (SDK controller, iterator `return()`); idempotent, never throws. */
  release(): void;
}

function abortOf(value: unknown): (() => void) | undefined {
  // SDK streams (openai, @anthropic-ai/sdk, Anthropic's MessageStream) own the fetch's AbortController.
  const controller = (value as { controller?: { abort?: unknown } }).controller;
  if (controller && typeof controller.abort === 'function') return () => (controller as AbortController).abort();
  return undefined;
}

/**
 * Resolves a source into an iterator. The signal reaches the upstream three ways: the function
 * form gets it, an SDK stream's own controller is aborted with it, and `release()` calls the
 * iterator's `return()`.
 * @internal
 */
export async function openSource(source: LLMSource, signal: AbortSignal): Promise<Upstream> {
  let value: unknown = typeof source === 'function' ? source(signal) : source;
  if (isThenable(value)) value = await value;
  if (value === null || typeof value !== 'object' || typeof value === 'string') {
    throw new LLMStreamError('invalid_source', `llmStream(): the source must be an (async) iterable, got ${value === null ? 'null' : typeof value}`);
  }
  const abort = abortOf(value);
  const make = ((value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] ??
    (value as Partial<Iterable<unknown>>)[Symbol.iterator]) as ((this: unknown) => unknown) | undefined;
  if (typeof make !== 'function') {
    abort?.();
    throw new LLMStreamError('invalid_source', 'llmStream(): the source is neither an AsyncIterable nor an Iterable');
  }
  const iterator = make.call(value) as AsyncIterator<unknown>;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    signal.removeEventListener('abort', release);
    abort?.();
    try {
      // An async generator parked in an await only runs `return()` after it: never wait for it.
      const done = iterator.return?.();
      if (isThenable(done)) done.then(undefined, () => {});
    } catch {
      // A throwing return() is the source's own clean-up failing; the stream is over either way.
    }
  };
  if (signal.aborted) release();
  else signal.addEventListener('abort', release, { once: true });
  return { iterator, release };
}

/** Releases a source that will never be read (bad options): an SDK stream holds an open request. @internal */
export function discard(source: LLMSource): void {
  if (typeof source === 'function') return;
  if (isThenable(source)) source.then((value) => abortOf(value)?.(), () => {});
  else if (source !== null && typeof source === 'object') abortOf(source)?.();
}
