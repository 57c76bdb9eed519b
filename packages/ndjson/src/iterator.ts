import { objectArray } from './arrays.js';
import { byteChunks } from './chunks.js';
import { NDJSONParseError, type NDJSONParseErrorCode } from './errors.js';
import { LineSplitter, type LineSink } from './lines.js';
import type { OnMalformed, ParseNDJSONOptions } from './parse.js';

const SKIP = Symbol('skip');
/**
 * Most input bytes split and parsed in one step: a larger source chunk (a whole file's Buffer, say)
 * is taken this much at a time, so the lines and values held at once stay bounded, as does a batch.
 */
const STEP_BYTES = 64 * 1024;
const LF = 10;

/** A queue entry that must be awaited: an async `validate` result or an async `onMalformed` call. */
class Deferred {
  constructor(
    readonly promise: PromiseLike<unknown>,
    readonly yields: boolean,
    readonly lineNumber: number,
    readonly text: string,
  ) {}
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof (x as PromiseLike<unknown> | null)?.then === 'function';

/**
 * The async iterator behind `parseNDJSON()`. A chunk is split synchronously into a queue of values,
 * which `next()` hands out without further async machinery; an async `validate` or `onMalformed`
 * leaves a {@link Deferred} in the queue, so order is kept. Errors are queued behind the values
 * before them.
 */
export class NDJSONIterator<T> implements AsyncIterableIterator<T>, LineSink {
  private queue: unknown[] = objectArray();
  /** Deferred entries in `queue`: a batch without any is handed out as it is. */
  private deferred = 0;
  private at = 0;
  private failure: { error: unknown } | undefined;
  private ended = false;
  /** What is left of a source chunk larger than STEP_BYTES. */
  private rest: Buffer | undefined;
  private busy = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly splitter: LineSplitter;
  /**
   * The current chunk's lines, with their numbers (negative: the line is not UTF-8), in the first
   * `lineCount` slots. The arrays are overwritten, never emptied: `length = 0` gives up their storage,
   * and growing them again for every chunk measured 2-5% of parsing mixed rows. Slots past
   * `lineCount` hold at most one step's stale lines until they are overwritten or the iteration closes.
   */
  private readonly texts: string[] = objectArray();
  private readonly numbers: number[] = [];
  private lineCount = 0;

  constructor(
    private readonly chunks: AsyncGenerator<Buffer, void, undefined>,
    maxLineBytes: number,
    private readonly onMalformed: OnMalformed,
    private readonly validate: ParseNDJSONOptions<T>['validate'],
  ) {
    this.splitter = new LineSplitter(maxLineBytes);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    // Fast path: a value decoded from the current chunk, with nothing else in flight. Without async
    // hooks the queue holds no Deferred, and skipping instanceof measured 1-4% of parseNDJSON.
    const { queue, at } = this;
    if (this.busy === 0 && at < queue.length) {
      const item = queue[at];
      if (this.deferred === 0 || !(item instanceof Deferred)) {
        this.at = at + 1;
        return Promise.resolve({ value: item as T, done: false });
      }
    }
    return this.serial(() => this.pull());
  }

  return(): Promise<IteratorReturnResult<undefined>> {
    return this.serial(async () => {
      await this.close();
      return { value: undefined, done: true as const };
    });
  }

  /** Runs calls one after another, as a hand-called iterator may call next() without awaiting. */
  private serial<R>(task: () => Promise<R>): Promise<R> {
    this.busy++;
    const run = this.tail.then(task);
    this.tail = run.then(
      () => this.busy--,
      () => this.busy--,
    );
    return run;
  }

  private async close(): Promise<void> {
    this.queue = objectArray();
    this.at = 0;
    this.deferred = 0;
    this.rest = undefined;
    this.dropLines();
    if (this.ended) return;
    this.ended = true;
    await this.chunks.return();
  }

  private async pull(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.at < this.queue.length) {
        const item = this.queue[this.at++];
        if (!(item instanceof Deferred)) return { value: item as T, done: false };
        const value = await this.settle(item);
        if (value !== SKIP) return { value: value as T, done: false };
        continue;
      }
      if (!(await this.refill())) return { value: undefined, done: true };
    }
  }

  /** The values of the next chunk (at most STEP_BYTES of it) as one array (never empty), for `parseNDJSONBatches()`. */
  nextBatch(): Promise<IteratorResult<T[], undefined>> {
    return this.serial(() => this.pullBatch());
  }

  private async pullBatch(): Promise<IteratorResult<T[], undefined>> {
    for (;;) {
      if (this.at < this.queue.length) {
        const items = this.at === 0 ? this.queue : this.queue.slice(this.at);
        this.queue = objectArray();
        this.at = 0;
        const settle = this.deferred > 0;
        this.deferred = 0;
        const batch = settle ? await this.settleAll(items) : items;
        if (batch.length > 0) return { value: batch as T[], done: false };
        continue;
      }
      if (!(await this.refill())) return { value: undefined, done: true };
    }
  }

  /** Settles a batch's deferred items in order; a failure is thrown after the values before it. */
  private async settleAll(items: unknown[]): Promise<unknown[]> {
    const values: unknown[] = [];
    for (const item of items) {
      if (!(item instanceof Deferred)) {
        values.push(item);
        continue;
      }
      try {
        const value = await this.settle(item);
        if (value !== SKIP) values.push(value);
      } catch (error) {
        if (values.length === 0) throw error;
        this.failure = { error };
        break;
      }
    }
    return values;
  }

  /** Queues the next chunk's values; `false` once the input is over. Throws a queued failure. */
  private async refill(): Promise<boolean> {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      await this.close();
      throw error;
    }
    if (this.ended) return false;
    // A new array, not a truncated one: a batch handed out may still be in the consumer's hands.
    this.queue = objectArray();
    this.at = 0;
    this.deferred = 0;
    await this.fill();
    return true;
  }

  /** Reads and splits the next chunk (or STEP_BYTES of it); errors are queued behind the values before them. */
  private async fill(): Promise<void> {
    let thrown: { error: unknown } | undefined;
    try {
      let chunk = this.rest;
      this.rest = undefined;
      if (chunk === undefined) {
        const result = await this.chunks.next();
        if (result.done) {
          this.ended = true;
          this.splitter.end(this);
        } else {
          chunk = result.value;
        }
      }
      if (chunk !== undefined) {
        if (chunk.length > STEP_BYTES) {
          // Cut after a line end when there is one, so no line is held over for the next step.
          const lf = chunk.lastIndexOf(LF, STEP_BYTES - 1);
          const cut = lf === -1 ? STEP_BYTES : lf + 1;
          this.rest = chunk.subarray(cut);
          chunk = chunk.subarray(0, cut);
        }
        this.splitter.push(chunk, this);
      }
    } catch (error) {
      thrown = { error };
    }
    this.parseLines();
    if (this.ended) this.dropLines();
    // A line that failed before the splitter or the source did is the error to report.
    if (thrown !== undefined && this.failure === undefined) this.failure = thrown;
  }

  /**
   * Parses the lines the splitter found in the chunk. Splitting the whole chunk first and parsing
   * after, in one loop, measured 2–6% faster on mixed rows than parsing each line as it is found
   * (each loop keeps its own code and data hot).
   */
  private parseLines(): void {
    const { texts, numbers, lineCount } = this;
    for (let i = 0; i < lineCount; i++) {
      const lineNumber = numbers[i]!;
      const ok =
        lineNumber > 0
          ? this.value(texts[i]!, lineNumber)
          : this.malformed('NDJSON_INVALID_UTF8', texts[i]!, -lineNumber, undefined);
      if (!ok) break;
    }
    this.lineCount = 0;
  }

  /** Lets go of the lines kept for reuse, once no more chunks come. */
  private dropLines(): void {
    this.texts.length = 0;
    this.numbers.length = 0;
    this.lineCount = 0;
  }

  private async settle(item: Deferred): Promise<unknown> {
    try {
      const value = await item.promise;
      return item.yields ? value : SKIP;
    } catch (error) {
      if (!item.yields) throw await this.fail(error);
      const parseError = new NDJSONParseError('NDJSON_INVALID_VALUE', item.lineNumber, item.text, error);
      if (this.onMalformed === 'error') throw await this.fail(parseError);
      if (this.onMalformed !== 'skip') {
        try {
          await this.onMalformed(item.text, item.lineNumber, parseError);
        } catch (callbackError) {
          throw await this.fail(callbackError);
        }
      }
      return SKIP;
    }
  }

  private async fail(error: unknown): Promise<unknown> {
    await this.close();
    return error;
  }

  /** LineSink: a line is kept until the chunk is split. */
  line(text: string, lineNumber: number): void {
    const i = this.lineCount++;
    this.texts[i] = text;
    this.numbers[i] = lineNumber;
  }

  /** LineSink: a line that is not UTF-8, kept in order with a negative line number. */
  invalidUtf8(text: string, lineNumber: number): void {
    const i = this.lineCount++;
    this.texts[i] = text;
    this.numbers[i] = -lineNumber;
  }

  /** LineSink: the lines after `lineNumber` are taken back (their run is walked again). */
  retract(lineNumber: number): void {
    const { numbers } = this;
    while (this.lineCount > 0 && Math.abs(numbers[this.lineCount - 1]!) > lineNumber) this.lineCount--;
  }

  /** One line's value is queued; `false` once the iteration is to stop there. */
  private value(text: string, lineNumber: number): boolean {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (text.trim() === '') return true;
      return this.malformed('NDJSON_MALFORMED_LINE', text, lineNumber, error);
    }
    if (this.validate === undefined) {
      this.queue.push(value);
      return true;
    }
    try {
      value = this.validate(value, lineNumber);
    } catch (error) {
      return this.malformed('NDJSON_INVALID_VALUE', text, lineNumber, error);
    }
    if (isThenable(value)) {
      this.deferred++;
      value = new Deferred(value, true, lineNumber, text);
    }
    this.queue.push(value);
    return true;
  }

  private malformed(code: NDJSONParseErrorCode, text: string, lineNumber: number, cause: unknown): boolean {
    const error = new NDJSONParseError(code, lineNumber, text, cause);
    if (this.onMalformed === 'skip') return true;
    if (this.onMalformed === 'error') {
      this.failure = { error };
      return false;
    }
    try {
      const result = this.onMalformed(text, lineNumber, error);
      if (isThenable(result)) {
        this.deferred++;
        this.queue.push(new Deferred(result, false, lineNumber, text));
      }
      return true;
    } catch (callbackError) {
      this.failure = { error: callbackError };
      return false;
    }
  }
}

/** `parseNDJSONBatches()`: the values of each chunk (at most STEP_BYTES of it) as one array. */
export class NDJSONBatchIterator<T> implements AsyncIterableIterator<T[]> {
  constructor(private readonly values: NDJSONIterator<T>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T[], undefined>> {
    return this.values.nextBatch();
  }

  return(): Promise<IteratorReturnResult<undefined>> {
    return this.values.return();
  }
}

// V8 forgets a hidden class once no object of it is alive, and throws away the optimized code that
// checks it. Without these idle instances (never read or run), every full GC that fell between two
// parses made the next parse run the decoder unoptimized and compile it again: 3–4% of the bench's
// 100 MiB of mixed rows and 8–10% of its 32 MiB of ASCII rows, as measured. The iterator also keeps its
// LineSplitter's hidden class. Exported so that they outlive the module's evaluation (a constant
// no function refers to is let go once the module has run); index.ts does not re-export them.
const idleIterator = new NDJSONIterator<unknown>(byteChunks([]), 1, 'error', undefined);
export const idleInstances: readonly object[] = [idleIterator, new NDJSONBatchIterator(idleIterator)];
