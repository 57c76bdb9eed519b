import fc from 'fast-check';
import { rechunk, StreamTypeError, type Chunk } from '@sluice/stream-generator';

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(Buffer.from(chunk)); // copy: views share input memory
  return out;
}

describe('rechunk()', () => {
  it('yields exactly `bytes`-sized chunks, an exact last chunk, and the same bytes (property)', async () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a): Chunk => a),
      fc.uint8Array({ maxLength: 300 }).map((a): Chunk => Buffer.from(a)),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 40 }), fc.integer({ min: 1, max: 200 }), fc.boolean(), async (input, size, isAsync) => {
        const source = isAsync ? (async function* () { yield* input; })() : input;
        const out = await collect(rechunk(source, size));
        const expected = Buffer.concat(input.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
        expect(Buffer.concat(out).equals(expected)).toBe(true);
        out.slice(0, -1).forEach((c) => expect(c.length).toBe(size));
        if (out.length > 0) {
          expect(out.at(-1)!.length).toBeGreaterThan(0);
          expect(out.at(-1)!.length).toBeLessThanOrEqual(size);
        }
        expect(out.length).toBe(Math.ceil(expected.length / size));
      }),
      { numRuns: 300 },
    );
  });

  it('passes a view, not a copy, when an input chunk covers whole output chunks', async () => {
    const big = Buffer.alloc(4096, 1);
    const [first] = await (async () => { const out: Buffer[] = []; for await (const c of rechunk([big], 1024)) out.push(c); return out; })();
    expect(first!.buffer).toBe(big.buffer);
  });

  it('stops its source when the consumer stops early', async () => {
    let finalized = false;
    function* source() {
      try {
        for (;;) yield 'abc';
      } finally {
        finalized = true;
      }
    }
    for await (const chunk of rechunk(source(), 10)) {
      expect(chunk.length).toBe(10);
      break;
    }
    expect(finalized).toBe(true);
  });

  it('rejects a bad size or source at call time, and a bad chunk when reading', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '4' as unknown as number]) {
      expect(() => rechunk([], bad)).toThrow(StreamTypeError);
    }
    expect(() => rechunk(42 as never, 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_SOURCE' }));
    await expect(collect(rechunk([1 as unknown as string], 4))).rejects.toMatchObject({ code: 'ERR_INVALID_CHUNK', message: expect.stringContaining('number (1)') });
  });
});
