import type { EventStore } from '@sluice/sse-resume';
import { defaultStreamName } from './follow.js';

/** Options for `llmStream(…, { resume })`: a generation that survives its client's disconnect. */
export interface LLMResumeOptions {
  /**
   * Where the generation's events are kept: a `MemoryEventStore` (one process) or a
   * `RedisEventStore` (`@sluice/sse-resume/redis`, many instances). Its retention (`maxEvents`,
   * `MAXLEN`) must hold a whole generation, `start` to `done`. Required.
   */
  store: EventStore;
  /**
   * How long the generation keeps running after its last client on this instance left: the one
   * that started it, and reconnects to `resumeGeneration({ registry })` here (reconnects to other
   * instances are not seen). Then the upstream is aborted, followers get an `error` event with
   * code `timeout`, and `onFinish` sees `aborted: true`.
   * @defaultValue `60000`
   */
  keepRunningMs?: number;
  /**
   * The store stream of a generation id; give the same function to `resumeGeneration()`.
   * @defaultValue `(id) => 'llm:' + id`
   */
  streamName?: (id: string) => string;
}

/** `resume` after validation. @internal */
export interface ResumeSettings {
  readonly store: EventStore;
  readonly keepRunningMs: number;
  readonly streamName: (id: string) => string;
}

function keepRunning(value: number | undefined): number {
  if (value === undefined) return 60_000;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`llmStream({ resume: { keepRunningMs } }) must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Checks `resume` with the other options, before anything is touched. @internal */
export function settleResume(resume: LLMResumeOptions | undefined, protocol: string): ResumeSettings | undefined {
  if (resume === undefined) return undefined;
  const store = resume?.store;
  if (!store || typeof store.append !== 'function' || typeof store.readAfter !== 'function' || typeof store.subscribe !== 'function') {
    throw new TypeError('llmStream({ resume: { store } }) must be an EventStore, e.g. new MemoryEventStore({ maxEvents: 10_000 })');
  }
  if (protocol !== 'sse') throw new TypeError(`llmStream({ resume }) needs protocol 'sse' (Last-Event-ID is an SSE feature), got ${protocol}`);
  if (resume.streamName !== undefined && typeof resume.streamName !== 'function') {
    throw new TypeError('llmStream({ resume: { streamName } }) must be a function (id) => string');
  }
  return {
    store,
    keepRunningMs: keepRunning(resume.keepRunningMs),
    streamName: resume.streamName ?? defaultStreamName,
  };
}
