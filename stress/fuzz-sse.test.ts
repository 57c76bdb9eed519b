// Fuzzing the SSE encoder: 100,000 random events → formatEvent → eventsource-parser must read back
// exactly the fields that went in, or formatEvent must refuse with the SSEFormatError code that
// names the first unsafe field. Nothing else may be thrown.
import fc from 'fast-check';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { formatEvent, SSEFormatError, type SSEFormatErrorCode, type SSEEvent } from '@sluice/sse-encoder';

jest.setTimeout(60_000);

const RUNS = 100_000;
const BREAK = /\r\n|\r|\n/;

// Strings rich in what breaks framing: CR, LF, CRLF, NUL, colons, leading spaces, BOM, surrogates.
const nasty = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', ' ', ':', '\r', '\n', '\r\n', '\0', '\uFEFF', 'é', '\uD83D', '\uDE00', '😀', 'data:', 'id:') , maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const cyclic = () => {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
};
const field = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(undefined), arb);
const eventArb = fc.record(
  {
    data: field(fc.oneof(nasty, fc.jsonValue(), fc.bigInt(), fc.constant(() => 1), fc.constant(Symbol('s')), fc.constant(null).map(cyclic))),
    event: field(fc.oneof({ weight: 8, arbitrary: nasty }, { weight: 1, arbitrary: fc.integer() })),
    id: field(fc.oneof({ weight: 4, arbitrary: nasty }, { weight: 2, arbitrary: fc.double() }, { weight: 1, arbitrary: fc.boolean() })),
    retry: field(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer({ min: -5, max: -1 }), fc.double(), fc.constant('100'))),
    comment: field(fc.oneof(nasty, fc.integer())),
    extra: fc.oneof({ weight: 30, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('unknown field') }),
  },
  { requiredKeys: [] },
);

/** The code formatEvent must refuse with, checking fields in its documented order; undefined when safe. */
function expectedRefusal(input: Record<string, unknown>): SSEFormatErrorCode | undefined {
  if (Object.keys(input).some((k) => !['data', 'event', 'id', 'retry', 'comment'].includes(k))) return 'UNKNOWN_FIELD';
  const { data, event, id, retry } = input;
  if (event !== undefined && (typeof event !== 'string' || /[\r\n]/.test(event))) return 'INVALID_EVENT';
  if (id !== undefined && ((typeof id !== 'string' && typeof id !== 'number') || /[\r\n\0]/.test(String(id)))) return 'INVALID_ID';
  if (retry !== undefined && !(typeof retry === 'number' && Number.isSafeInteger(retry) && retry >= 0)) return 'INVALID_RETRY';
  if (data !== undefined && typeof data !== 'string') {
    try {
      if (JSON.stringify(data) === undefined) return 'INVALID_DATA';
    } catch {
      return 'INVALID_DATA';
    }
  }
  return undefined;
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

function same(got: unknown[], want: unknown[], what: string): void {
  const ok = got.length === want.length && got.every((v, i) => v === want[i]);
  check(ok, `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function readBack(frame: string) {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const errors: unknown[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (r) => retries.push(r), onError: (e) => errors.push(e) });
  parser.feed(frame);
  return { events, comments, retries, errors };
}

it(`formatEvent: ${RUNS.toLocaleString('en-US')} random events read back exactly, or refused with the right SSEFormatError`, () => {
  const tally = { encoded: 0, refused: {} as Record<string, number> };
  const t0 = performance.now();
  fc.assert(
    fc.property(eventArb, (raw) => {
      const input = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
      const refusal = expectedRefusal(input);
      let frame: string;
      try {
        frame = formatEvent(input as SSEEvent);
      } catch (error) {
        // Only a typed refusal, and the one the first unsafe field calls for.
        check(error instanceof SSEFormatError && error.name === 'SSEFormatError', `untyped exception: ${String(error)}`);
        const { code } = error as SSEFormatError;
        check(code === refusal, `refused with ${code}, expected ${String(refusal)}`);
        tally.refused[code] = (tally.refused[code] ?? 0) + 1;
        return;
      }
      check(refusal === undefined, `accepted, expected ${String(refusal)}`);
      tally.encoded++;
      // One frame: ends with exactly one blank line and contains no other ({} is that blank line alone).
      check(frame === '\n' || frame.endsWith('\n\n'), 'frame does not end with a blank line');
      check(!frame.slice(0, -1).includes('\n\n'), 'frame contains a blank line inside');
      const { events, comments, retries, errors } = readBack(frame);
      check(errors.length === 0, `parser errors: ${String(errors[0])}`);
      const { data, event, id, retry, comment } = input as SSEEvent;
      same(comments, comment === undefined ? [] : String(comment).split(BREAK), 'comments');
      same(retries, retry === undefined ? [] : [retry + 0], 'retry'); // -0 is written as 0
      if (data === undefined) return void check(events.length === 0, 'an event without data was dispatched');
      check(events.length === 1, `${events.length} events dispatched`);
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      same([events[0]!.data, events[0]!.event, events[0]!.id], [text.split(BREAK).join('\n'), event === '' ? undefined : event, id === undefined ? undefined : String(id)], 'data, event, id');
    }),
    { numRuns: RUNS },
  );
  const ms = Math.round(performance.now() - t0);
  console.log(`[stress] fuzz sse-encoder: ${RUNS} events in ${ms} ms, ${tally.encoded} encoded and read back exactly, refused ${JSON.stringify(tally.refused)}, 0 untyped exceptions`);
  // The generator must exercise both sides and every refusal.
  expect(tally.encoded).toBeGreaterThan(RUNS / 10);
  expect(Object.keys(tally.refused).sort()).toEqual(['INVALID_DATA', 'INVALID_EVENT', 'INVALID_ID', 'INVALID_RETRY', 'UNKNOWN_FIELD']);
});
