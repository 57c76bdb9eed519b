import { Readable } from 'node:stream';
import fc from 'fast-check';
import {
  NDJSONLineTooLongError,
  NDJSONParseError,
  parseNDJSON,
  parseNDJSONBatches,
  type NDJSONSource,
  type ParseNDJSONOptions,
} from '@sluice/ndjson';

async function collect<T = unknown>(source: NDJSONSource, options?: ParseNDJSONOptions<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of parseNDJSON<T>(source, options)) out.push(value);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** A web ReadableStream of `parts` (built by hand: `ReadableStream.from` is missing from some lib typings). */
function webStream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

describe('parseNDJSON()', () => {
  describe('splitting and decoding', () => {
    const text = '\uFEFF{"name":"Zoë"}\r\n\n  \t \n["李雷","😀"]\r\n"a\\nb"\n42\r\n{"end":true}';
    const expected = [{ name: 'Zoë' }, ['李雷', '😀'], 'a\nb', 42, { end: true }];

    it('decodes a whole string and a whole buffer', async () => {
      expect(await collect(text)).toEqual(expected);
      expect(await collect(Buffer.from(text))).toEqual(expected);
    });

    it('gives identical values for the input cut at every byte position (inside characters, between CR and LF, inside the BOM)', async () => {
      const bytes = Buffer.from(text);
      for (let i = 1; i < bytes.length; i++) {
        expect(await collect(cut(bytes, [i]))).toEqual(expected);
      }
    });

    it('gives identical values for every pair of cuts', async () => {
      const bytes = Buffer.from(text);
      for (let i = 1; i < bytes.length; i += 3) {
        for (let j = i + 1; j < bytes.length; j += 2) {
          expect(await collect(cut(bytes, [i, j]))).toEqual(expected);
        }
      }
    });

    it('decodes a long line arriving one byte per chunk', async () => {
      const line = Buffer.from(JSON.stringify({ text: 'é😀a'.repeat(20_000) }));
      const [value] = await collect<{ text: string }>([...line].map((b) => Uint8Array.of(b)));
      expect(value!.text).toBe('é😀a'.repeat(20_000));
    });

    it('decodes one byte per chunk', async () => {
      const bytes = Buffer.from(text);
      expect(await collect([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
    });

    it('decodes string chunks, with surrogate pairs split between chunks', async () => {
      const chars = text.split('');
      expect(await collect(chars)).toEqual(expected);
    });

    it('reads a Node Readable, a web ReadableStream and an async generator', async () => {
      const bytes = Buffer.from(text);
      const parts = cut(bytes, [5, 17, 40]);
      expect(await collect(Readable.from(parts))).toEqual(expected);
      expect(await collect(webStream(parts))).toEqual(expected);
      expect(
        await collect(
          (async function* () {
            yield* parts;
          })(),
        ),
      ).toEqual(expected);
      // A stream without Symbol.asyncIterator (older browsers) goes through getReader().
      const stream = webStream(parts);
      expect(await collect({ getReader: () => stream.getReader() })).toEqual(expected);
    });

    it('parses a truncated last line (no newline at the end)', async () => {
      expect(await collect(['1\n2\n', '{"a"', ':3}'])).toEqual([1, 2, { a: 3 }]);
      expect(await collect(['1\r'])).toEqual([1]);
    });

    it('yields nothing for empty input and for input made only of newlines', async () => {
      expect(await collect([])).toEqual([]);
      expect(await collect('')).toEqual([]);
      expect(await collect('\n\n\r\n\n')).toEqual([]);
      expect(await collect(['\n', '\r', '\n', '   ', '\n'])).toEqual([]);
    });

    it('drops a BOM only at the very start', async () => {
      expect(await collect([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x31])])).toEqual([1]);
      const error = await failure(collect('1\n\uFEFF2\n'));
      expect(error).toBeInstanceOf(NDJSONParseError);
      expect((error as NDJSONParseError).lineNumber).toBe(2);
    });

    it('round-trips random values cut at random places (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.jsonValue(), { maxLength: 20 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          fc.boolean(),
          async (values, cuts, crlf) => {
            const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(crlf ? '\r\n' : '\n'));
            const at = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
            // JSON has no -0: compare with what a JSON round trip gives.
            expect(await collect(cut(bytes, at))).toEqual(JSON.parse(JSON.stringify(values)));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('round-trips any Unicode with blank and CRLF line ends in between, whole and cut (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 2 }), fc.constantFrom('\n', '\r\n', '\n\n', '\n\r\n')), {
            maxLength: 20,
          }),
          fc.array(fc.nat(), { maxLength: 6 }),
          async (rows, cuts) => {
            const bytes = Buffer.from(rows.map(([v, end]) => JSON.stringify(v) + end).join(''));
            const at = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
            const expected = JSON.parse(JSON.stringify(rows.map(([v]) => v))) as unknown[];
            expect(await collect(bytes)).toEqual(expected);
            expect(await collect(cut(bytes, at))).toEqual(expected);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('a multi-byte line before a blank one decodes right, also with a long line after it', async () => {
      // One chunk: after its first line the rest is decoded as one run. "é" makes line 2 one UTF-16
      // unit shorter than its bytes, so where an ASCII line 2 would end in UTF-16 is the blank
      // line's "\n"; taken for line 2's own, it would give "Ã©" and shift every line after it.
      const head = '{"x":0}\n{"a":"é"}\n\n';
      expect(await collect(Buffer.from(`${head}{"b":1}\n{"b":1}\n{"b":2}\n`))).toEqual([{ x: 0 }, { a: 'é' }, { b: 1 }, { b: 1 }, { b: 2 }]);
      expect(await collect(Buffer.from(`${head}"李"\n\n\n[3]\n`))).toEqual([{ x: 0 }, { a: 'é' }, '李', [3]]);
      const values: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const value of parseNDJSON(Buffer.from(`${head}"${'y'.repeat(40)}"\n[4]\n`), { maxLineBytes: 20 })) values.push(value);
        })(),
      );
      expect(values).toEqual([{ x: 0 }, { a: 'é' }]);
      expect(error).toBeInstanceOf(NDJSONLineTooLongError);
      expect((error as NDJSONLineTooLongError).lineNumber).toBe(4);
    });

    it('finds line ends past characters whose UTF-16 holds a 0x0A byte (Ċ is 0A 01, ਅ is 05 0A)', async () => {
      // In one run after the first line, each multi-byte line's end is searched for in UTF-16LE bytes,
      // where these characters put a 0x0A byte at an even and at an odd offset; in "ਅĀ" (05 0A 00 01)
      // the odd one is even followed by a 00, as a "\n" would be (taken for one, a false line end
      // leaves the UTF-16 one "\n" short, so the run is walked again: slower, not wrong).
      const lines = ['{"x":0}', '"Ċਅ"', '{"b":1}', '"ਅĊਅ x"', '"ਅĀ"', '"\u0a0a\u0a0a"', '[2]'];
      const bytes = Buffer.from(lines.join('\n') + '\n');
      const expected = lines.map((line) => JSON.parse(line) as unknown);
      expect(await collect(bytes)).toEqual(expected);
      expect(await collect(cut(bytes, [3]))).toEqual(expected);
    });
  });

  describe('maxLineBytes', () => {
    it('decodes a 16 MiB line arriving in 16 KiB chunks', async () => {
      const line = Buffer.from(JSON.stringify({ blob: 'é'.repeat(8 * 1024 * 1024 - 6) }));
      const chunks = cut(line, Array.from({ length: Math.floor(line.length / 16384) }, (_, i) => (i + 1) * 16384));
      const [value] = await collect<{ blob: string }>(chunks, { maxLineBytes: 17 * 1024 * 1024 });
      expect(value!.blob.length).toBe(8 * 1024 * 1024 - 6);
    });

    it('throws a typed error with the line number before the line is accumulated', async () => {
      let pulled = 0;
      const hostile = (function* () {
        yield Buffer.from('1\n2\n');
        for (let i = 0; i < 1024; i++) {
          pulled++;
          yield Buffer.alloc(16384, 0x20);
        }
      })();
      const error = await failure(collect(hostile, { maxLineBytes: 64 * 1024 }));
      expect(error).toBeInstanceOf(NDJSONLineTooLongError);
      expect(error).toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 3, maxLineBytes: 65536 });
      // Stopped right after the limit: 64 KiB is 4 chunks, the 5th crosses it.
      expect(pulled).toBe(5);
    });

    it('counts bytes, not the line terminator', async () => {
      expect(await collect('"abc"\r\n"de"\n', { maxLineBytes: 5 })).toEqual(['abc', 'de']);
      expect(await collect(['"abc"\r', '\n"de"'], { maxLineBytes: 5 })).toEqual(['abc', 'de']);
      expect(await collect(['"ab', 'c"'], { maxLineBytes: 5 })).toEqual(['abc']);
      await expect(collect(['"ab', 'cd"\n'], { maxLineBytes: 5 })).rejects.toMatchObject({ lineNumber: 1 });
      await expect(collect('1\n"abcd"\n', { maxLineBytes: 5 })).rejects.toMatchObject({ lineNumber: 2 });
      // Multi-byte characters count as their UTF-8 bytes.
      await expect(collect('"éé"\n', { maxLineBytes: 5 })).rejects.toBeInstanceOf(NDJSONLineTooLongError);
      // Also past the first line, where a run of lines is decoded at once (5 UTF-16 units, 11 bytes).
      await expect(collect('1\n"李李李"\n', { maxLineBytes: 10 })).rejects.toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 2 });
      expect(await collect('1\n"李李李"\n', { maxLineBytes: 11 })).toEqual([1, '李李李']);
    });

    it('a line over the limit mid-chunk comes after the values before it, and after an earlier malformed line', async () => {
      const long = `"${'x'.repeat(20)}"`;
      const values: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const v of parseNDJSON(`1\n2\n${long}\n4\n`, { maxLineBytes: 10 })) values.push(v);
        })(),
      );
      expect(values).toEqual([1, 2]);
      expect(error).toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 3 });
      const batches: unknown[][] = [];
      await expect(
        (async () => {
          for await (const batch of parseNDJSONBatches(`1\n2\n${long}\n4\n`, { maxLineBytes: 10 })) batches.push(batch);
        })(),
      ).rejects.toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 3 });
      expect(batches).toEqual([[1, 2]]);
      // The first failing line, by line number, is the error: a malformed line 2 under 'error'.
      const input = `1\n{oops\n${long}\n`;
      await expect(collect(input, { maxLineBytes: 10 })).rejects.toMatchObject({ code: 'NDJSON_MALFORMED_LINE', lineNumber: 2 });
      await expect(collect(input, { maxLineBytes: 10, onMalformed: 'skip' })).rejects.toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 3 });
      const thrower = () => {
        throw new Error('stop here');
      };
      await expect(collect(input, { maxLineBytes: 10, onMalformed: thrower })).rejects.toThrow('stop here');
    });

    it('rejects a bad limit at the call', () => {
      expect(() => parseNDJSON('', { maxLineBytes: 0 })).toThrow(TypeError);
      expect(() => parseNDJSON('', { onMalformed: 'ignore' as 'skip' })).toThrow(TypeError);
    });
  });

  describe('onMalformed', () => {
    const input = '1\n{oops\n3\n';

    it("'error' (default): yields the values before, then throws with line number and excerpt", async () => {
      const seen: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const v of parseNDJSON(input)) seen.push(v);
        })(),
      );
      expect(seen).toEqual([1]);
      expect(error).toBeInstanceOf(NDJSONParseError);
      expect(error).toMatchObject({ name: 'NDJSONParseError', code: 'NDJSON_MALFORMED_LINE', lineNumber: 2, excerpt: '{oops' });
      expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    });

    it('keeps excerpts short', async () => {
      const error = (await failure(collect(`{${'x'.repeat(10_000)}\n`))) as NDJSONParseError;
      expect(error.excerpt.length).toBeLessThanOrEqual(61);
      expect(error.message.length).toBeLessThan(200);
    });

    it("'skip': drops the line and keeps every line after it", async () => {
      expect(await collect(input, { onMalformed: 'skip' })).toEqual([1, 3]);
    });

    it('callback: told about the line, then parsing goes on', async () => {
      const calls: unknown[] = [];
      const values = await collect(input, {
        onMalformed: (line, lineNumber, error) => void calls.push([line, lineNumber, error.code]),
      });
      expect(values).toEqual([1, 3]);
      expect(calls).toEqual([['{oops', 2, 'NDJSON_MALFORMED_LINE']]);
    });

    it('an async callback is awaited before later values, and its rejection stops the iteration', async () => {
      const order: string[] = [];
      const values: unknown[] = [];
      const error = await failure(
        (async () => {
          const it = parseNDJSON('1\nx\n2\ny\n3\n', {
            onMalformed: async (line) => {
              await new Promise((r) => setTimeout(r, 5));
              order.push(line);
              if (line === 'y') throw new Error('stop at y');
            },
          });
          for await (const v of it) {
            order.push(String(v));
            values.push(v);
          }
        })(),
      );
      expect((error as Error).message).toBe('stop at y');
      expect(order).toEqual(['1', 'x', '2', 'y']);
      expect(values).toEqual([1, 2]);
    });

    it('invalid UTF-8 is a malformed line (never silently replaced), under every policy', async () => {
      const bytes = Buffer.concat([Buffer.from('"ok"\n"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"\n"after"\n')]);
      await expect(collect(bytes)).rejects.toMatchObject({ code: 'NDJSON_INVALID_UTF8', lineNumber: 2 });
      expect(await collect(bytes, { onMalformed: 'skip' })).toEqual(['ok', 'after']);
      const lines: number[] = [];
      expect(await collect(bytes, { onMalformed: (_l, n) => void lines.push(n) })).toEqual(['ok', 'after']);
      expect(lines).toEqual([2]);
      // An overlong encoding and a lone continuation byte are invalid too; a real U+FFFD is fine.
      await expect(collect(Buffer.from([0x22, 0xc0, 0xaf, 0x22]))).rejects.toMatchObject({ code: 'NDJSON_INVALID_UTF8' });
      await expect(collect(Buffer.from([0x22, 0x80, 0x22]))).rejects.toMatchObject({ code: 'NDJSON_INVALID_UTF8' });
      expect(await collect('"\uFFFD"')).toEqual(['\uFFFD']);
    });

    it('a malformed line in the middle of a long run of ASCII lines is found under each policy', async () => {
      const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i }));
      lines[250] = '{"i":250,}';
      const bytes = Buffer.from(lines.join('\n'));
      await expect(collect(bytes)).rejects.toMatchObject({ lineNumber: 251 });
      const skipped = await collect<{ i: number }>(bytes, { onMalformed: 'skip' });
      expect(skipped).toHaveLength(499);
      expect(skipped[250]).toEqual({ i: 251 });
      const seen: number[] = [];
      await collect(cut(bytes, [3000, 3001]), { onMalformed: (_l, n) => void seen.push(n) });
      expect(seen).toEqual([251]);
    });
    it('one chunk mixing ASCII, multi-byte and invalid lines decodes each on its own', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"a":1}\n"Zoë"\r\n"\\r"\r\r\n"李雷😀"\n"x'),
        Buffer.from([0xe9]), // Latin-1 é: not UTF-8
        Buffer.from('y"\n"é"\r\n[2]\n'),
      ]);
      const expected = [{ a: 1 }, 'Zoë', '\r', '李雷😀', 'é', [2]];
      expect(await collect(bytes, { onMalformed: 'skip' })).toEqual(expected);
      const bad: Array<[string, number]> = [];
      await collect(bytes, { onMalformed: (line, n, error) => void bad.push([error.code, n]) });
      expect(bad).toEqual([['NDJSON_INVALID_UTF8', 5]]);
      await expect(collect(bytes)).rejects.toMatchObject({ code: 'NDJSON_INVALID_UTF8', lineNumber: 5 });
    });
  });

  describe('validate', () => {
    const isPoint = (v: unknown): { x: number } => {
      if (typeof (v as { x?: unknown }).x !== 'number') throw new Error('not a point');
      return v as { x: number };
    };

    it('returns the value to yield', async () => {
      expect(await collect('{"x":1}\n{"x":2}', { validate: (v, n) => ({ ...isPoint(v), n }) })).toEqual([
        { x: 1, n: 1 },
        { x: 2, n: 2 },
      ]);
    });

    it('a rejection is a malformed line with the hook error as cause', async () => {
      const error = (await failure(collect('{"x":1}\n{"y":2}', { validate: isPoint }))) as NDJSONParseError;
      expect(error).toMatchObject({ code: 'NDJSON_INVALID_VALUE', lineNumber: 2, excerpt: '{"y":2}' });
      expect((error.cause as Error).message).toBe('not a point');
      expect(await collect('{"x":1}\n{"y":2}\n{"x":3}', { validate: isPoint, onMalformed: 'skip' })).toEqual([{ x: 1 }, { x: 3 }]);
    });

    it('may be async, and values keep their order', async () => {
      const validate = async (v: unknown) => {
        await new Promise((r) => setTimeout(r, Number(v) % 3));
        if (v === 4) throw new Error('no 4');
        return Number(v) * 10;
      };
      const reported: number[] = [];
      const values = await collect('1\n2\n3\n4\n5\n6', { validate, onMalformed: (_l, n) => void reported.push(n) });
      expect(values).toEqual([10, 20, 30, 50, 60]);
      expect(reported).toEqual([4]);
      await expect(collect('1\n4\n5', { validate })).rejects.toMatchObject({ code: 'NDJSON_INVALID_VALUE', lineNumber: 2 });
    });
  });

  describe('consumption', () => {
    it('reads one chunk ahead at most, and breaking out releases the source', async () => {
      let pulled = 0;
      let released = false;
      const source = (async function* () {
        try {
          for (let i = 0; i < 100; i++) {
            pulled++;
            yield `${i}\n${i}\n`;
          }
        } finally {
          released = true;
        }
      })();
      for await (const value of parseNDJSON(source)) {
        if (value === 3) break;
      }
      // 3 is in the 4th chunk; nothing after it was read.
      expect(pulled).toBe(4);
      expect(released).toBe(true);
    });

    it('signal: aborting ends a stalled read with the reason and releases the source', async () => {
      let released = false;
      const stalled = new Readable({ read() {} });
      stalled.push('1\n');
      stalled.on('close', () => (released = true));
      const controller = new AbortController();
      const seen: unknown[] = [];
      const done = (async () => {
        for await (const v of parseNDJSON(stalled, { signal: controller.signal })) {
          seen.push(v);
          setTimeout(() => controller.abort(new Error('enough')), 5);
        }
      })();
      await expect(done).rejects.toThrow('enough');
      expect(seen).toEqual([1]);
      await new Promise((r) => setImmediate(r));
      expect(released).toBe(true);
    });

    it('a source error reaches the consumer after the values before it', async () => {
      const source = (async function* () {
        yield '1\n2';
        throw new Error('source broke');
      })();
      const seen: unknown[] = [];
      await expect(
        (async () => {
          for await (const v of parseNDJSON(source)) seen.push(v);
        })(),
      ).rejects.toThrow('source broke');
      expect(seen).toEqual([1]);
    });

    describe('a Node Readable', () => {
      // Listeners a stream has of its own (none here) and those a reader adds; all must go again.
      const watched = ['readable', 'end', 'error', 'close', 'finish'] as const;
      const listeners = (stream: Readable) => watched.reduce((sum, event) => sum + stream.listenerCount(event), 0);

      it('waits for chunks that come later, and leaves no listener once it has ended', async () => {
        const stream = new Readable({ read() {} });
        const values = collect(stream);
        for (const part of ['{"a":', '1}\n2', '\n', '3']) {
          await new Promise((r) => setTimeout(r, 5));
          stream.push(part);
        }
        stream.push(null);
        expect(await values).toEqual([{ a: 1 }, 2, 3]);
        expect(listeners(stream)).toBe(0);
      });

      it('a stream error comes after the values before it; the listeners are gone', async () => {
        const stream = new Readable({ read() {} });
        stream.push('1\n2\n3');
        const seen: unknown[] = [];
        const done = (async () => {
          for await (const value of parseNDJSON(stream)) {
            seen.push(value);
            if (value === 2) setImmediate(() => stream.destroy(new Error('disk gone')));
          }
        })();
        await expect(done).rejects.toThrow('disk gone');
        expect(seen).toEqual([1, 2]);
        expect(listeners(stream)).toBe(0);
      });

      it('a stream destroyed before its end is a premature close, never a quiet end of input', async () => {
        const stream = new Readable({ read() {} });
        stream.push('1\n2');
        setImmediate(() => stream.destroy());
        const error = await failure(collect(stream));
        expect(error).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
        expect(listeners(stream)).toBe(0);
      });

      it('breaking out destroys the stream and removes the listeners', async () => {
        const stream = new Readable({ read() {} });
        stream.push('1\n2\n');
        for await (const value of parseNDJSON(stream)) if (value === 1) break;
        expect(stream.destroyed).toBe(true);
        expect(listeners(stream)).toBe(0);
      });

      it('reads text from a stream with an encoding set, and bytes from an object-mode stream', async () => {
        const text = '{"name":"Zoë 李雷 😀"}\n{"n":2}\n';
        const bytes = Buffer.from(text);
        const decoded = Readable.from(cut(bytes, [10, 11, 12, 20]), { objectMode: false });
        decoded.setEncoding('utf8');
        expect(await collect(decoded)).toEqual([{ name: 'Zoë 李雷 😀' }, { n: 2 }]);
        const views = cut(bytes, [3, 25]).map((part) => new Uint8Array(part));
        expect(await collect(Readable.from(views))).toEqual([{ name: 'Zoë 李雷 😀' }, { n: 2 }]);
      });
    });

    it('serialises next() calls made without awaiting', async () => {
      const it = parseNDJSON(['1\n2\n', 'x\n3\n'], { onMalformed: 'skip' });
      const results = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
      expect(results).toEqual([
        { done: false, value: 1 },
        { done: false, value: 2 },
        { done: false, value: 3 },
        { done: true, value: undefined },
      ]);
    });

    it('rejects chunks that are not bytes or text', async () => {
      await expect(collect([{}] as unknown as string[])).rejects.toThrow(TypeError);
      expect(() => parseNDJSON(42 as unknown as string)).toThrow(TypeError);
    });
  });

  describe('parseNDJSONBatches()', () => {
    async function batchesOf<T = unknown>(source: NDJSONSource, options?: ParseNDJSONOptions<T>): Promise<T[][]> {
      const out: T[][] = [];
      for await (const batch of parseNDJSONBatches<T>(source, options)) out.push(batch);
      return out;
    }

    it('hands out the values of each chunk as one array, never an empty one', async () => {
      expect(await batchesOf(['1\n2\n3', '\n\n\n', '4\n', '5'])).toEqual([[1, 2], [3], [4], [5]]);
      expect(await batchesOf('')).toEqual([]);
    });

    it('gives the same values as parseNDJSON() for the input cut at every byte position', async () => {
      const bytes = Buffer.from('\uFEFF{"name":"Zoë"}\r\n\n["李雷","😀"]\r\n"a\\nb"\n42\r\n{"end":true}');
      const expected = await collect(bytes);
      for (let i = 1; i < bytes.length; i++) {
        expect((await batchesOf(cut(bytes, [i]))).flat()).toEqual(expected);
      }
    });

    it('takes a source chunk larger than 64 KiB 64 KiB at a time: bounded batches, same values', async () => {
      const values = Array.from({ length: 40_000 }, (_, i) => ({ i, name: i % 7 ? `row ${i}` : `Zoë 李雷 ${i}` }));
      const whole = Buffer.from(values.map((v) => JSON.stringify(v)).join('\n') + '\n'); // ~1.2 MB, one chunk
      const batches = await batchesOf(whole);
      expect(batches.flat()).toEqual(values);
      expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(whole.length / 65536));
      for (const batch of batches) {
        expect(batch.reduce((bytes: number, v) => bytes + Buffer.byteLength(JSON.stringify(v)) + 1, 0)).toBeLessThanOrEqual(65536);
      }
    });

    it('cuts a large chunk inside a line (and inside a character) when a line is longer than 64 KiB', async () => {
      const long = { text: 'é'.repeat(100_000) }; // 200 KB: the 64 KiB cuts fall inside it, mid-character too
      const source = Buffer.from(`1\n${JSON.stringify(long)}\n2\n`);
      expect((await batchesOf(source, { maxLineBytes: 1 << 20 })).flat()).toEqual([1, long, 2]);
      await expect(batchesOf(source, { maxLineBytes: 150_000 })).rejects.toMatchObject({ code: 'NDJSON_LINE_TOO_LONG', lineNumber: 2 });
    });

    it('parses no further ahead than 64 KiB of a large chunk, and breaking out releases the source', async () => {
      const line = JSON.stringify({ id: 123456, name: 'row' }); // 26 bytes
      let validated = 0;
      let released = false;
      const validate = (value: unknown) => (validated++, value);
      const source = (async function* () {
        try {
          yield `${line}\n`.repeat(100_000);
          yield `${line}\n`;
        } finally {
          released = true;
        }
      })();
      for await (const _ of parseNDJSON(source, { validate })) break;
      expect(validated).toBeLessThanOrEqual(Math.ceil(65536 / (line.length + 1)));
      expect(released).toBe(true);
    });

    it('never reuses a batch it handed out', async () => {
      const it = parseNDJSONBatches(['1\n2\n', '3\n4\n']);
      const first = (await it.next()).value;
      const second = (await it.next()).value;
      expect(first).toEqual([1, 2]);
      expect(second).toEqual([3, 4]);
      expect(await it.next()).toEqual({ done: true, value: undefined });
    });

    it('a malformed line: the values before it come as a batch, then the typed error', async () => {
      const seen: unknown[][] = [];
      const error = await failure(
        (async () => {
          for await (const batch of parseNDJSONBatches('1\n2\n{oops\n4\n')) seen.push(batch);
        })(),
      );
      expect(seen).toEqual([[1, 2]]);
      expect(error).toMatchObject({ code: 'NDJSON_MALFORMED_LINE', lineNumber: 3 });
      expect(await batchesOf('1\n{oops\n3\n', { onMalformed: 'skip' })).toEqual([[1, 3]]);
    });

    it('async validate: order kept; a rejection mid-batch ends it, the values before it still delivered', async () => {
      const validate = async (v: unknown) => {
        await new Promise((r) => setTimeout(r, 3 - (Number(v) % 3)));
        if (v === 3) throw new Error('no 3');
        return Number(v) * 10;
      };
      expect(await batchesOf('1\n2\n4\n', { validate })).toEqual([[10, 20, 40]]);
      const seen: unknown[][] = [];
      const error = await failure(
        (async () => {
          for await (const batch of parseNDJSONBatches('1\n2\n3\n4\n', { validate })) seen.push(batch);
        })(),
      );
      expect(seen).toEqual([[10, 20]]);
      expect(error).toMatchObject({ code: 'NDJSON_INVALID_VALUE', lineNumber: 3 });
      expect(await batchesOf('3\n', { validate, onMalformed: 'skip' })).toEqual([]);
    });

    it('breaking out releases the source; a source error comes after the batches before it', async () => {
      let released = false;
      const source = (async function* () {
        try {
          for (let i = 0; ; i++) yield `${i}\n`;
        } finally {
          released = true;
        }
      })();
      for await (const batch of parseNDJSONBatches(source)) if (batch[0] === 2) break;
      expect(released).toBe(true);
      const broken = (async function* () {
        yield '1\n2\n';
        throw new Error('source broke');
      })();
      const seen: unknown[][] = [];
      await expect(
        (async () => {
          for await (const batch of parseNDJSONBatches(broken)) seen.push(batch);
        })(),
      ).rejects.toThrow('source broke');
      expect(seen).toEqual([[1, 2]]);
    });

    it('checks its options and source at the call, like parseNDJSON()', () => {
      expect(() => parseNDJSONBatches('1', { maxLineBytes: 0 })).toThrow(TypeError);
      expect(() => parseNDJSONBatches(42 as unknown as string)).toThrow(TypeError);
    });
  });
});
