import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { drained, type Sink } from './sink.js';
import type { Step } from './source.js';

/**
 * Longest stretch a source that never waits may keep the event loop busy before the pump yields
 * (setImmediate) so other requests on the server are served. Checked every {@link CHECK_EVERY} chunks.
 */
const SLICE_MS = 5;
const CHECK_EVERY = 64;

/** Per-stream state shared between the pump and `stream()`'s close handling. */
export interface PumpState {
  readonly res: ServerResponse;
  readonly sink: Sink;
  /** Set once the stream ended, failed or the client left: the pump stops at its next step. */
  settled: boolean;
  /** The pending "flush when the source pauses" turn, cleared by `stream()` when it settles. */
  flushTurn: NodeJS.Immediate | undefined;
  /** Fails the stream from outside the pump's own promise chain (the flush turn). */
  readonly fail: (error: unknown) => void;
}

const now = () => performance.now();

/**
 * Writes what is pending, then hands the loop back to other work for one turn. Waiting for 'drain'
 * alone is not enough: a write the socket took at once emits it on the next tick, not a later turn.
 */
async function breathe(st: PumpState): Promise<void> {
  if (!st.sink.flush()) await drained(st.res);
  // A ref'd immediate: an unref'd one does not keep the poll phase from blocking, so on a quiet
  // server it would wait for unrelated I/O (seconds). It settles within one turn either way.
  if (!st.settled) await nextTurn();
}

/** Pulls a synchronous iterator: only while the socket accepts more, yielding every SLICE_MS. */
export async function pumpSync(next: () => Step, st: PumpState): Promise<void> {
  const { sink, res } = st;
  let since = now();
  let count = 0;
  for (;;) {
    const step = next();
    if (step.done) return;
    if (sink.add(step.value) && !sink.flush()) {
      await drained(res); // may resolve within this turn: the time check below still applies
      if (st.settled) return;
    }
    if (++count % CHECK_EVERY === 0 && now() - since >= SLICE_MS) {
      await breathe(st);
      if (st.settled) return;
      since = now();
    }
  }
}

/**
 * Pulls an async iterator. What is pending is written as soon as the source really pauses: a
 * setImmediate armed when the buffer stops being empty only runs once the loop gets a turn, which
 * a source resolving from ready data (microtasks) never gives it, while one waiting on I/O or a
 * timer does.
 */
export async function pumpAsync(next: () => PromiseLike<Step>, st: PumpState): Promise<void> {
  const { sink, res } = st;
  const flushPaused = () => {
    st.flushTurn = undefined;
    try {
      if (!st.settled) sink.flush();
    } catch (error) {
      st.fail(error); // e.g. a header Node refuses, set with the first write: never an uncaught throw
    }
  };
  let since = now();
  let count = 0;
  for (;;) {
    if (res.writableNeedDrain) {
      await drained(res);
      if (st.settled) return;
    }
    const step = await next();
    if (st.settled || step.done) return;
    const wasEmpty = !sink.pending;
    if (sink.add(step.value)) sink.flush();
    else if (wasEmpty && st.flushTurn === undefined) st.flushTurn = setImmediate(flushPaused); // ref'd, as above; cleared when the stream settles
    if (++count % CHECK_EVERY === 0 && now() - since >= SLICE_MS) {
      await breathe(st);
      if (st.settled) return;
      since = now();
    }
  }
}
