import { LLMStreamError, toLLMStreamError } from './errors.js';
import type { Generation } from './generation.js';
import type { Encoder } from './protocols/encoder.js';
import { detect, openSource, type Adapter, type LLMSource, type Upstream } from './sources/source.js';
import type { LLMEvent } from './types.js';

const STOPPED = Symbol('stopped');

/**
 * Reads the upstream and yields the protocol's output units, then exactly one terminal unit
 * (`done`, `error` or `cancelled`) unless the client went away. An error before anything was
 * yielded is thrown instead, so the caller can answer with an HTTP error.
 * @internal
 */
export async function* run<T>(g: Generation, source: LLMSource, encoder: Encoder<T>): AsyncGenerator<T, void, undefined> {
  const signal = g.controller.signal;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    if (signal.aborted) resolve(STOPPED);
    else signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
  });
  const events: LLMEvent[] = [];
  const out: T[] = [];
  let upstream: Upstream | undefined;
  let adapter: Adapter | undefined;
  let structured = false;
  try {
    try {
      upstream = await Promise.race([openSource(source, signal), stopped]).then((u) => (u === STOPPED ? undefined : u));
      const iterator = upstream?.iterator;
      while (iterator && !signal.aborted) {
        // Raced against the signal: a source that ignores it (a plain async generator parked in an
        // await) must not hold the response open after the client left or a cancel.
        const step = await Promise.race([iterator.next(), stopped]);
        if (step === STOPPED || step.done) break;
        if (!adapter) ({ adapter, structured } = detect(step.value));
        adapter(step.value as never, events);
        for (const event of events) {
          const tool = g.apply(event);
          if (event.type === 'text') encoder.text(event.text, out);
          else if (event.type === 'reasoning') encoder.reasoning(event.text, out);
          else if (event.type === 'tool-start') encoder.toolStart(tool!.call, tool!.ordinal, out);
          else if (event.type === 'tool-delta') encoder.toolDelta(tool!.call, tool!.ordinal, event.args, out);
        }
        events.length = 0;
        if (out.length === 0) continue;
        if (!g.opened) yield* openUnits(g, encoder);
        // Copy-free hand-off: the consumer finishes with a unit before asking for the next.
        for (let i = 0; i < out.length; i++) yield out[i]!;
        out.length = 0;
      }
      if (!signal.aborted && structured && g.finishReason === undefined) {
        throw new LLMStreamError('network', 'The upstream stream ended before the model finished');
      }
    } catch (error) {
      // Whatever a source throws once we stopped it (AbortError, APIUserAbortError) is our doing.
      if (!signal.aborted) g.error = toLLMStreamError(error);
    } finally {
      upstream?.release();
    }
    g.ending = true;
    if (g.aborted) return;
    if (!g.opened && (g.error === undefined || g.cancelled)) yield* openUnits(g, encoder);
    if (g.cancelled) encoder.cancelled(out);
    else if (g.error) {
      if (!g.opened) throw g.error;
      if (!encoder.error(g.error, out)) throw g.error;
    } else encoder.done(out);
    for (const unit of out) yield unit;
  } finally {
    // Settles `stopped` so nothing waits on it; the upstream is released above.
    if (!signal.aborted) g.controller.abort();
  }
}

/** Marks the generation opened and returns the protocol's opening units. @internal */
export function openUnits<T>(g: Generation, encoder: Encoder<T>): T[] {
  g.opened = true;
  const units: T[] = [];
  encoder.open(units);
  return units;
}
