import type { StoredEvent } from './types.js';

/**
 * Drops live events that the replay already wrote. Live delivery is in order and the replay is a
 * prefix of the same history, so the overlap is a suffix of the replay seen as a prefix of the
 * live events: once one live event is not in it, none after it can be. This needs no ordering of
 * the (opaque) ids and holds even when a store delivers live events late or from `afterId`.
 */
export class Seam {
  #replayed: readonly StoredEvent[] | undefined;
  #next = -1;

  constructor(replayed: readonly StoredEvent[]) {
    this.#replayed = replayed.length > 0 ? replayed : undefined;
  }

  /** False for an event already replayed; true for one to send. */
  accepts(event: StoredEvent): boolean {
    const replayed = this.#replayed;
    if (!replayed) return true;
    if (this.#next === -1) {
      // First live event: find it in the replay, searching from the end where overlaps are.
      let i = replayed.length - 1;
      while (i >= 0 && replayed[i]!.id !== event.id) i--;
      if (i < 0) return this.#release();
      this.#next = i + 1;
    } else if (replayed[this.#next]!.id === event.id) {
      this.#next++;
    } else {
      return this.#release();
    }
    if (this.#next >= replayed.length) this.#release();
    return false;
  }

  #release(): true {
    this.#replayed = undefined; // past the overlap: let the replayed events be collected
    return true;
  }
}
