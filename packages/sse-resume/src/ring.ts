import type { StoredEvent } from './types.js';

interface Slot {
  readonly seq: number;
  readonly at: number;
  readonly stored: StoredEvent;
}

/** The retained events of one stream, oldest first, with the bookkeeping to detect eviction. */
export class Ring {
  /** Retained events live in `#slots[#head..]`; the prefix is dropped in batches. */
  #slots: (Slot | undefined)[] = [];
  #head = 0;
  /** Highest seq evicted so far: a client whose last id is below it missed events. */
  evictedSeq: number;

  constructor(evictedSeq: number) {
    this.evictedSeq = evictedSeq;
  }

  get size(): number {
    return this.#slots.length - this.#head;
  }

  push(seq: number, at: number, stored: StoredEvent): void {
    this.#slots.push({ seq, at, stored });
  }

  evictOldest(): void {
    this.evictedSeq = this.#slots[this.#head]!.seq;
    this.#slots[this.#head++] = undefined;
    // Compact in batches so eviction stays O(1) amortised.
    if (this.#head >= 1024 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Evicts events stored at or before `cutoff` (a `Date.now()` value). */
  evictUntil(cutoff: number): void {
    while (this.size > 0 && this.#slots[this.#head]!.at <= cutoff) this.evictOldest();
  }

  /** Events with a seq above `seq` (all of them for -1), oldest first. */
  after(seq: number): StoredEvent[] {
    // Binary search: slots are in seq order.
    let lo = this.#head;
    let hi = this.#slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#slots[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredEvent[] = new Array(this.#slots.length - lo);
    for (let i = lo; i < this.#slots.length; i++) out[i - lo] = this.#slots[i]!.stored;
    return out;
  }
}
