// Fuzzing the NDJSON decoder: random JSON values serialized one per line, blank lines, garbage
// lines (not JSON, invalid UTF-8) interleaved, random line endings, an optional BOM, the whole cut
// into random chunks (bytes, strings or a Readable). parseNDJSON must never crash (only typed
// NDJSON errors), never hang (each parse races a timeout), and never lose a valid line.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { NDJSONLineTooLongError, NDJSONParseError, parseNDJSON, type NDJSONSource, type OnMalformed } from '@sluice/ndjson';

jest.setTimeout(60_000);

type Line = { kind: 'value'; text: string } | { kind: 'garbage'; bytes: Buffer; utf8Only: boolean } | { kind: 'blank'; text: string };
const enc = (s: string) => Buffer.from(s, 'utf8');

const valueLine = fc.jsonValue({ maxDepth: 3 }).map((v): Line => ({ kind: 'value', text: JSON.stringify(v) }));
const garbageLine = fc.oneof(
  // Not JSON whatever its bytes: '#' never starts a JSON text. Bytes are random (no LF, no CR).
  fc.uint8Array({ maxLength: 40 }).map((b): Line => ({ kind: 'garbage', bytes: Buffer.concat([enc('#'), Buffer.from(b.map((x) => (x === 10 || x === 13 ? 32 : x)))]), utf8Only: false })),
  // Truncated JSON.
  fc.jsonValue({ maxDepth: 2 }).map((v): Line => ({ kind: 'garbage', bytes: enc(`[${JSON.stringify(v)}`), utf8Only: true })),
  // A JSON string that would be valid if an invalid byte were decoded as U+FFFD: must not be.
  fc.string({ maxLength: 10 }).map((s): Line => ({ kind: 'garbage', bytes: Buffer.concat([enc(`"${s.replace(/["\\\n\r]/g, '')}`), Buffer.from([0xff, 0xc3]), enc('"')]), utf8Only: false })),
);
const blankLine = fc.constantFrom('', ' ', '\t', '  \t ').map((text): Line => ({ kind: 'blank', text }));
const lines = fc.array(fc.oneof({ weight: 6, arbitrary: valueLine }, { weight: 2, arbitrary: garbageLine }, { weight: 1, arbitrary: blankLine }), { maxLength: 40, size: 'max' });

const input = fc.record({
  lines,
  crlf: fc.array(fc.boolean(), { minLength: 41, maxLength: 41 }),
  finalNewline: fc.boolean(),
  bom: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 30, size: 'max' }),
  mode: fc.constantFrom('bytes', 'strings', 'readable', 'whole'),
});
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

/** The document's bytes and the lines as the decoder must see them (string mode drops byte garbage). */
function build({ lines: raw, crlf, finalNewline, bom, mode }: Input) {
  const used = mode === 'strings' ? raw.filter((l) => l.kind !== 'garbage' || l.utf8Only) : raw;
  const parts: Buffer[] = bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  used.forEach((line, i) => {
    parts.push(line.kind === 'garbage' ? line.bytes : enc(line.text));
    if (i < used.length - 1 || finalNewline) parts.push(enc(crlf[i] ? '\r\n' : '\n'));
  });
  return { bytes: Buffer.concat(parts), lines: used };
}

/** Cuts `bytes` at random places into the source kind under test. */
function source(bytes: Buffer, cuts: number[], mode: Input['mode']): NDJSONSource {
  if (mode === 'whole') return bytes;
  if (mode === 'strings') {
    const text = bytes.toString('utf8');
    const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
    // Cuts by UTF-16 unit: a surrogate pair may be split between two chunks.
    const chunks = [0, ...at].map((from, i, all) => text.slice(from, all[i + 1] ?? text.length));
    return (function* () {
      yield* chunks;
    })();
  }
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks = [0, ...at].map((from, i, all) => bytes.subarray(from, all[i + 1] ?? bytes.length));
  if (mode === 'readable') return Readable.from(chunks);
  return (async function* () {
    yield* chunks;
  })();
}

/** Parses with a deadline: a hang fails the property instead of the whole suite. */
async function parseAll(src: NDJSONSource, onMalformed: OnMalformed, maxLineBytes?: number) {
  const values: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('parseNDJSON hung for 5 s')), 5000)));
  const run = (async () => {
    try {
      for await (const v of parseNDJSON(src, { onMalformed, maxLineBytes })) values.push(JSON.stringify(v));
      return { values, error: undefined as unknown };
    } catch (error) {
      return { values, error };
    }
  })();
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const expectedValues = (ls: Line[]) => ls.flatMap((l) => (l.kind === 'value' ? [JSON.stringify(JSON.parse(l.text))] : []));

function sameValues(got: string[], want: string[]) {
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
    throw new Error(`values differ: got ${got.length} ${JSON.stringify(got).slice(0, 300)}, want ${want.length} ${JSON.stringify(want).slice(0, 300)}`);
  }
}

const stats = { cases: 0, lines: 0, garbage: 0 };
afterAll(() => console.log(`[stress] fuzz ndjson: ${stats.cases} documents, ${stats.lines} lines (${stats.garbage} garbage) in random chunks: 0 crashes, 0 hangs, 0 lost values`));

it("onMalformed 'skip': every valid line's value comes out, in order; nothing is thrown", async () => {
  await fc.assert(
    fc.asyncProperty(input, async (inp) => {
      const { bytes, lines: ls } = build(inp);
      stats.cases++;
      stats.lines += ls.length;
      stats.garbage += ls.filter((l) => l.kind === 'garbage').length;
      const { values, error } = await parseAll(source(bytes, inp.cuts, inp.mode), 'skip');
      if (error !== undefined) throw new Error(`threw under 'skip': ${String(error)}`);
      sameValues(values, expectedValues(ls));
    }),
    { numRuns: 8000 },
  );
});

it("onMalformed 'error': the values before the first bad line, then a typed NDJSONParseError naming that line", async () => {
  await fc.assert(
    fc.asyncProperty(input, async (inp) => {
      const { bytes, lines: ls } = build(inp);
      stats.cases++;
      stats.lines += ls.length;
      const bad = ls.findIndex((l) => l.kind === 'garbage');
      const { values, error } = await parseAll(source(bytes, inp.cuts, inp.mode), 'error');
      sameValues(values, expectedValues(bad === -1 ? ls : ls.slice(0, bad)));
      if (bad === -1) {
        if (error !== undefined) throw new Error(`threw on a valid document: ${String(error)}`);
        return;
      }
      if (!(error instanceof NDJSONParseError)) throw new Error(`expected NDJSONParseError, got ${String(error)}`);
      if (!['NDJSON_MALFORMED_LINE', 'NDJSON_INVALID_UTF8'].includes(error.code)) throw new Error(`code ${error.code}`);
      if (error.lineNumber !== bad + 1) throw new Error(`lineNumber ${error.lineNumber}, bad line is ${bad + 1}`);
    }),
    { numRuns: 4000 },
  );
});

it('maxLineBytes: a typed NDJSONLineTooLongError at the first long line, the values before it intact', async () => {
  await fc.assert(
    fc.asyncProperty(input, fc.integer({ min: 1, max: 80 }), async (inp, max) => {
      const { bytes, lines: ls } = build({ ...inp, bom: false });
      stats.cases++;
      stats.lines += ls.length;
      const size = (l: Line) => (l.kind === 'garbage' ? l.bytes.length : enc(l.text).length);
      const long = ls.findIndex((l) => size(l) > max);
      const { values, error } = await parseAll(source(bytes, inp.cuts, inp.mode), 'skip', max);
      sameValues(values, expectedValues(long === -1 ? ls : ls.slice(0, long)));
      if (long === -1) {
        if (error !== undefined) throw new Error(`threw without a long line: ${String(error)}`);
        return;
      }
      if (!(error instanceof NDJSONLineTooLongError)) throw new Error(`expected NDJSONLineTooLongError, got ${String(error)}`);
      if (error.lineNumber !== long + 1) throw new Error(`lineNumber ${error.lineNumber}, long line is ${long + 1}`);
    }),
    { numRuns: 4000 },
  );
});
