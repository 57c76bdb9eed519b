import type { ServerResponse } from 'node:http';
import { checkOptions, writeHead } from './head.js';
import { pumpAsync, pumpSync, type PumpState } from './pump.js';
import { Sink, isGone } from './sink.js';
import { discard, toPuller, type Puller } from './source.js';
import type { BodySource, Source, StreamOptions } from './types.js';

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * Streams `source` to `res` with backpressure, coalescing and cancellation, then ends it.
 *
 * Settles as follows:
 * - resolves when the body was sent, when the client went away (not an error: the source was
 *   stopped and the signal aborted), and for HEAD requests (headers only, source not started);
 * - rejects when the source failed before the first byte was written: `res` is untouched, so pass
 *   the error to `next(err)` for a proper error response;
 * - after the first byte, a failure destroys the socket (the client sees a cut response, never a
 *   clean end) and goes to `options.onError` when given (the promise resolves), else rejects.
 */
export function stream(res: ServerResponse, source: Source, options: StreamOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const { onError } = options;
    const report = (error: unknown) => onError?.(error);
    try {
      checkOptions(options);
    } catch (error) {
      // Still release what we were handed: a Readable holds a file descriptor or a socket.
      if (typeof source !== 'function') discard(source, report);
      return reject(error);
    }
    const controller = new AbortController();
    let undoHead = () => undefined as void;
    const sink = new Sink(res, options.bufferBytes ?? 65536, () => (undoHead = writeHead(res, options)));
    // Bytes someone wrote before us count: from then on a failure can only cut the response.
    sink.started = res.headersSent;
    let puller: Puller | undefined;

    const settle = () => {
      st.settled = true;
      res.off('close', onClose);
      if (st.flushTurn !== undefined) clearImmediate(st.flushTurn);
    };
    // A 'close' before we ended means the client left (or someone else ended `res`): stop everything.
    const onClose = () => {
      if (st.settled) return;
      settle();
      controller.abort();
      puller?.release();
      resolve();
    };
    const fail = (error: unknown) => {
      if (st.settled) return;
      settle();
      controller.abort(error);
      puller?.release();
      if (!sink.started) {
        undoHead(); // the first write threw (a hook, say): the error response must not carry our headers
        return reject(error);
      }
      res.destroy();
      if (!onError) return reject(error);
      try {
        onError(error);
        resolve();
      } catch (hookError) {
        reject(hookError);
      }
    };
    const st: PumpState = { res, sink, settled: false, flushTurn: undefined, fail };
    const end = () => {
      if (st.settled) return;
      // Each of these may throw (a hook on the headers): `fail` must still find the stream unsettled.
      sink.flush();
      if (!sink.started) undoHead = writeHead(res, options);
      res.end();
      settle(); // 'close' comes later, never from end() itself
      resolve();
    };
    const run = async (body: BodySource) => {
      if (st.settled) return discard(body, report);
      puller = toPuller(body, report);
      await (puller.sync ? pumpSync(puller.next, st) : pumpAsync(puller.next, st));
      end();
    };

    const isHead = (res as { req?: { method?: string } }).req?.method === 'HEAD';
    if (isHead || isGone(res)) {
      if (typeof source !== 'function') discard(source, report);
      if (isHead && !isGone(res)) {
        writeHead(res, options);
        res.end();
      }
      return resolve();
    }
    res.on('close', onClose);
    try {
      const body = typeof source === 'function' ? source(controller.signal) : source;
      (isThenable(body) ? Promise.resolve(body).then(run) : run(body)).catch(fail);
    } catch (error) {
      fail(error);
    }
  });
}
