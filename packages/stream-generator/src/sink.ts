import type { ServerResponse } from 'node:http';
import { chunkError } from './errors.js';

/**
 * Gathers chunks into one pending write. Strings are concatenated (V8 ropes, encoded once by
 * `res.write`); bytes are concatenated at flush time, except a lone chunk, written as is (no copy).
 * Strings are measured in UTF-16 units rather than encoded bytes: a target, not a limit, and
 * `Buffer.byteLength` per chunk would cost more than the coalescing saves.
 */
export class Sink {
  private text = '';
  private parts: Uint8Array[] = [];
  private size = 0;
  /** True once anything reached `res.write()`: from then on errors cut the response. */
  started = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly limit: number,
    private readonly start: () => unknown,
  ) {}

  get pending(): boolean {
    return this.size > 0;
  }

  /** Adds a chunk; returns true when the pending write is full and should be flushed. */
  add(chunk: unknown): boolean {
    if (typeof chunk === 'string') {
      this.text += chunk;
      this.size += chunk.length;
    } else if (chunk instanceof Uint8Array) {
      if (this.text !== '') this.parts.push(Buffer.from(this.text));
      this.text = '';
      this.parts.push(chunk);
      this.size += chunk.byteLength;
    } else {
      throw chunkError(chunk);
    }
    return this.size >= this.limit;
  }

  /** Writes what is pending; returns `res.write()`'s answer (false: wait for drain). */
  flush(): boolean {
    if (this.size === 0) return !this.res.writableNeedDrain;
    let data: string | Uint8Array = this.text;
    if (this.parts.length > 0) {
      if (this.text !== '') this.parts.push(Buffer.from(this.text));
      data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    }
    this.text = '';
    this.parts = [];
    this.size = 0;
    if (!this.started) this.start();
    // A throw here (an on-headers hook, say) happens before any byte left: still an HTTP error.
    const ok = this.res.write(data);
    this.started = true;
    // Behind `compression`, push the bytes out now rather than at the compressor's convenience.
    (this.res as { flush?: () => void }).flush?.();
    return ok;
  }
}

// V8 forgets a hidden class once no object of it is alive, and throws away the optimized code that
// checks it ("weak objects"). A full GC between two responses collected every Sink, so add() and
// pending ran unoptimized at the next response until compiled again. One idle Sink, never written
// to, keeps the class. Exported so that it outlives the module's evaluation (a constant no function
// refers to is let go once the module has run); index.ts does not re-export it.
export const idleSink = new Sink(undefined as unknown as ServerResponse, 0, () => undefined);

/** True when nothing more can be written: the client left or the response was ended or destroyed. */
export function isGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || res.socket?.destroyed === true;
}

/** Resolves on 'drain' or 'close', whichever comes first, and removes both listeners. */
export function drained(res: ServerResponse): Promise<void> {
  if (!res.writableNeedDrain || isGone(res)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
