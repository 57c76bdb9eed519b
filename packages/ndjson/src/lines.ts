import { isAscii, isUtf8, transcode } from 'node:buffer';
import { objectArray } from './arrays.js';
import { NDJSONLineTooLongError } from './errors.js';

const LF = 10;
const CR = 13;
/** Lines from this length on are checked for ASCII before decoding (a native call saved on short ones). */
const LONG_LINE = 1024;
/** Views of an unfinished line merged into one buffer at a time, when they are small. */
const MERGE_PARTS = 256;

/** Receives each non-empty line, in order. */
export interface LineSink {
  line(text: string, lineNumber: number): void;
  /** A line whose bytes are not UTF-8; `text` has U+FFFD in place of the bad bytes. */
  invalidUtf8(text: string, lineNumber: number): void;
  /** Drops the lines numbered after `lineNumber` that were handed over (a run is walked again). */
  retract(lineNumber: number): void;
}

/**
 * Splits UTF-8 bytes into lines in linear time. Each chunk is searched for `\n` once; the bytes of
 * an unfinished line are kept as views of the chunks they came in and joined once, when the line
 * ends, so a character split across chunks decodes correctly.
 */
export class LineSplitter {
  private parts: Buffer[] = objectArray<Buffer>();
  /** parts[0, merged) are not merged again. */
  private merged = 0;
  private pending = 0;
  lineNumber = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Feeds one chunk. Throws {@link NDJSONLineTooLongError}. */
  push(chunk: Buffer, sink: LineSink): void {
    const first = chunk.indexOf(LF);
    if (first === -1) {
      this.hold(chunk);
      return;
    }
    // The line that started in earlier chunks (or at the start of this one) ends at `first`.
    let head = chunk.subarray(0, first);
    if (this.pending > 0) {
      if (this.pending + first > this.maxLineBytes + 1) throw this.tooLong(this.lineNumber + 1);
      this.parts.push(head);
      head = Buffer.concat(this.parts, this.pending + first);
      this.parts = objectArray<Buffer>();
      this.merged = 0;
      this.pending = 0;
    }
    this.lineNumber++;
    this.bytesLine(head, this.lineNumber === 1 ? bomLength(head) : 0, head.length, sink);

    const last = chunk.lastIndexOf(LF);
    if (last !== first) this.run(chunk, first + 1, last, sink);
    if (last + 1 < chunk.length) this.hold(chunk.subarray(last + 1));
  }

  /** Ends the input: a last line without `\n` is still a line. */
  end(sink: LineSink): void {
    if (this.pending === 0) return;
    const line = Buffer.concat(this.parts, this.pending);
    this.parts = objectArray<Buffer>();
    this.merged = 0;
    this.pending = 0;
    this.lineNumber++;
    this.bytesLine(line, this.lineNumber === 1 ? bomLength(line) : 0, line.length, sink);
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending += bytes.length;
    // One byte of slack for a `\r` whose `\n` has not arrived yet. The check runs before the bytes
    // are kept, so a hostile line never holds more than maxLineBytes + 1 bytes.
    const limit = this.maxLineBytes + (bytes[bytes.length - 1] === CR ? 1 : 0);
    if (this.pending > limit) throw this.tooLong(this.lineNumber + 1);
    this.parts.push(bytes);
    // A view costs ~100 bytes: with tiny chunks (1 byte each, say) that would be 100x the line.
    // Runs of small views are copied into one buffer; each byte is copied at most once this way.
    if (this.parts.length - this.merged >= MERGE_PARTS) {
      const run = this.parts.splice(this.merged);
      const size = run.reduce((sum, part) => sum + part.length, 0);
      if (size < MERGE_PARTS * 1024) this.parts.push(Buffer.concat(run, size));
      else this.parts.push(...run);
      this.merged = this.parts.length;
    }
  }

  /**
   * Complete lines in chunk[from, to], where chunk[to] is `\n`: decoded with one native call and
   * split as a string, far cheaper than one call per line. The run is decoded as Latin-1 (a byte
   * per character, so positions are byte offsets); when it holds other valid UTF-8 it is also
   * converted to UTF-16 bytes once (see {@link mixedRun}). A run with invalid bytes is checked line
   * by line instead (a Latin-1 character >= 0x80 takes two bytes in UTF-8), and only the lines that
   * give themselves away are decoded again from their bytes.
   */
  private run(chunk: Buffer, from: number, to: number, sink: LineSink): void {
    const bytes = chunk.subarray(from, to + 1);
    const text = chunk.toString('latin1', from, to + 1);
    if (isAscii(bytes)) return this.walk(text, bytes, undefined, false, sink);
    const utf16 = toUtf16(bytes);
    if (utf16 !== undefined) {
      const before = this.lineNumber;
      if (this.mixedRun(text, utf16, sink)) return;
      sink.retract(before);
      this.lineNumber = before;
    }
    this.walk(text, bytes, utf16?.toString('utf16le'), utf16 === undefined, sink);
  }

  /**
   * A valid multi-byte run, walked in its Latin-1 text and its UTF-16 bytes at once. A line whose
   * `\n` is as far into both is ASCII and is taken from the Latin-1 text; only the others are made
   * into strings from the UTF-16 bytes (V8 makes a one-byte string when every character is Latin-1,
   * and one-byte strings parse faster). Turning the whole run into a UTF-16 string instead cost a
   * copy and twice the run's size in young-generation garbage: this measured 3-4% faster on mixed rows.
   * Most lines are ASCII, so the UTF-16 `\n` is looked for first where an ASCII line would put it,
   * one read instead of a search. That guess can hit a later line's `\n` (a multi-byte line before a
   * blank one), which uses up one `\n` too many; as both hold the same number, the UTF-16 bytes then
   * run out of them before the last line. `false` in that case, and for a line over the limit (the
   * lines before it might be wrong), and the caller walks the run again the careful way.
   */
  private mixedRun(text: string, utf16: Buffer, sink: LineSink): boolean {
    const units = utf16.length >> 1;
    let start = 0;
    let start16 = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      let nl16 = start16 + (nl - start);
      // Bounds first: a read past the end would make V8 deoptimize here.
      if (nl16 >= units || utf16[2 * nl16] !== LF || utf16[2 * nl16 + 1] !== 0) {
        nl16 = indexOfLF16(utf16, start16);
        if (nl16 === -1) return false;
      }
      this.lineNumber++;
      const end = nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (end - start > this.maxLineBytes) return false;
      if (end > start) {
        if (nl16 - start16 === nl - start) sink.line(text.slice(start, end), this.lineNumber);
        else sink.line(utf16.toString('utf16le', 2 * start16, 2 * (nl16 - (nl - end))), this.lineNumber);
      }
      start = nl + 1;
      start16 = nl16 + 1;
    }
    return true;
  }

  /**
   * The careful walk: every `\n` of the UTF-16 text (when there is one) is searched for. Without
   * it, ASCII lines are taken from the Latin-1 text and, in an `invalid` run (not UTF-8), the others
   * are decoded again from their bytes. Only the runs {@link mixedRun} gives up on, all-ASCII runs
   * and invalid ones come here, so the UTF-16 text is made whole and sliced.
   */
  private walk(text: string, bytes: Buffer, utf16: string | undefined, invalid: boolean, sink: LineSink): void {
    let start = 0;
    let nl = text.indexOf('\n');
    let start16 = 0;
    let nl16 = utf16 === undefined ? -1 : utf16.indexOf('\n');
    while (nl !== -1) {
      this.lineNumber++;
      const end = nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (end - start > this.maxLineBytes) throw this.tooLong(this.lineNumber);
      if (end > start) {
        if (utf16 !== undefined && nl16 - start16 !== nl - start) {
          sink.line(utf16.slice(start16, nl16 - (nl - end)), this.lineNumber);
        } else if (invalid && !isAscii(bytes.subarray(start, end))) {
          this.bytesLine(bytes, start, nl, sink);
        } else {
          sink.line(text.slice(start, end), this.lineNumber);
        }
      }
      start = nl + 1;
      nl = text.indexOf('\n', start);
      if (utf16 !== undefined) {
        start16 = nl16 + 1;
        nl16 = utf16.indexOf('\n', start16);
      }
    }
  }

  /** One line in bytes[begin, end), decoded on its own. */
  private bytesLine(bytes: Buffer, begin: number, end: number, sink: LineSink): void {
    if (end > begin && bytes[end - 1] === CR) end--;
    if (end - begin > this.maxLineBytes) throw this.tooLong(this.lineNumber);
    if (end <= begin) return;
    // Latin-1 decodes several times faster than UTF-8 and the same for ASCII: worth a check on long
    // lines. (Views are made only when needed: creating one costs about as much as decoding a short line.)
    if (end - begin >= LONG_LINE && isAscii(bytes.subarray(begin, end))) {
      sink.line(bytes.toString('latin1', begin, end), this.lineNumber);
      return;
    }
    const text = bytes.toString('utf8', begin, end);
    // U+FFFD is what the decoder puts in place of bad bytes; only then are the bytes checked.
    if (text.indexOf('\uFFFD') !== -1 && !isUtf8(bytes.subarray(begin, end))) sink.invalidUtf8(text, this.lineNumber);
    else sink.line(text, this.lineNumber);
  }

  private tooLong(lineNumber: number): NDJSONLineTooLongError {
    this.parts = objectArray<Buffer>();
    this.merged = 0;
    this.pending = 0;
    return new NDJSONLineTooLongError(lineNumber, this.maxLineBytes);
  }
}

/** A UTF-8 byte order mark at the start of the input is dropped (it may span chunks; line 1 is whole here). */
function bomLength(line: Buffer): number {
  return line.length >= 3 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? 3 : 0;
}

/**
 * Valid UTF-8 as UTF-16LE bytes in one native pass (simdutf in Node 20+): on mostly-ASCII text with
 * some multi-byte characters about 1.7x the speed of V8's UTF-8 decoder (whose fast path ends at
 * the first non-ASCII byte), and far cheaper than decoding line by line. `undefined` for invalid
 * bytes, or on a Node built without ICU.
 */
function toUtf16(bytes: Buffer): Buffer | undefined {
  // transcode throws on bytes that are not UTF-8 (it never puts U+FFFD in), so no check comes first.
  try {
    return transcode(bytes, 'utf8', 'utf16le');
  } catch {
    return undefined;
  }
}

/**
 * The first U+000A at or after code unit `from` in UTF-16LE bytes, or -1. The first 0x0A byte is
 * found with memchr (the cheapest search, and usually the answer); when it is half of another
 * character (U+0A05 in Gurmukhi, U+010A), a search by code units takes over, as calling memchr
 * again for each such byte cost 10x as much per line on Gurmukhi text.
 */
function indexOfLF16(utf16: Buffer, from: number): number {
  const at = utf16.indexOf(LF, 2 * from);
  if (at === -1) return -1;
  if ((at & 1) === 0 && utf16[at + 1] === 0) return at >> 1;
  const unit = utf16.indexOf('\n', at & ~1, 'utf16le');
  return unit === -1 ? -1 : unit >> 1;
}

// A Buffer made in C++ (as transcode's) has a hidden class of its own, which V8 forgets once no
// such Buffer is alive, throwing away the optimized run() with it (see idleInstances in
// iterator.ts). One idle Buffer, never read, keeps it (exported for the same reason as those).
export const idleTranscoded = (() => {
  try {
    return transcode(Buffer.from(' '), 'utf8', 'utf16le');
  } catch {
    return undefined;
  }
})();
