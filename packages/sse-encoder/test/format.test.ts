import fc from 'fast-check';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { encodeEvent, formatEvent, SSEFormatError, type SSEEvent } from '@sluice/sse-encoder';

function parse(text: string) {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (r) => retries.push(r),
  });
  parser.feed(text);
  return { events, comments, retries };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SSEFormatError) return err.code;
    throw err;
  }
  return undefined;
}

// Full unicode plus the characters that matter to the framing, so that they show up often.
const tricky = fc.constantFrom('\r', '\n', '\r\n', '\n\n', ':', ' ', 'data: x', '\0', '\uFEFF', 'é', '😀');
const text = fc.string({ unit: fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 });
const safeField = text.map((s) => s.replace(/[\r\n\0]/g, ''));

describe('formatEvent()', () => {
  it('writes the fields in one frame ending in a blank line', () => {
    expect(formatEvent({ event: 'tick', id: 7, retry: 1000, data: 'hi' })).toBe(
      'event: tick\nid: 7\nretry: 1000\ndata: hi\n\n',
    );
  });

  it('splits data on CR, LF and CRLF into data lines', () => {
    expect(formatEvent({ data: 'a\rb\nc\r\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('keeps an empty string as one empty data line, which clients dispatch as ""', () => {
    expect(formatEvent({ data: '' })).toBe('data: \n\n');
    expect(parse(formatEvent({ data: '' })).events).toEqual([expect.objectContaining({ data: '' })]);
  });

  it('JSON-encodes non-string data', () => {
    expect(formatEvent({ data: { a: 'x\ny' } })).toBe('data: {"a":"x\\ny"}\n\n');
    expect(formatEvent({ data: 0 })).toBe('data: 0\n\n');
    expect(formatEvent({ data: null })).toBe('data: null\n\n');
  });

  it('keeps comments in comment lines even when they contain line breaks', () => {
    const frame = formatEvent({ comment: 'one\ndata: forged\rtwo', data: 'real' });
    expect(parse(frame)).toEqual({
      events: [expect.objectContaining({ data: 'real' })],
      comments: ['one', 'data: forged', 'two'],
      retries: [],
    });
  });

  describe('rejects what a client would read differently', () => {
    it.each([
      [{ event: 'a\nb' }, 'INVALID_EVENT'],
      [{ event: 'a\rb' }, 'INVALID_EVENT'],
      [{ event: 5 as unknown as string }, 'INVALID_EVENT'],
      [{ id: '1\n2' }, 'INVALID_ID'],
      [{ id: '1\r' }, 'INVALID_ID'],
      [{ id: 'a\0b' }, 'INVALID_ID'],
      [{ id: {} as unknown as string }, 'INVALID_ID'],
      [{ retry: -1 }, 'INVALID_RETRY'],
      [{ retry: 1.5 }, 'INVALID_RETRY'],
      [{ retry: Number.NaN }, 'INVALID_RETRY'],
      [{ retry: Number.POSITIVE_INFINITY }, 'INVALID_RETRY'],
      [{ retry: '10' as unknown as number }, 'INVALID_RETRY'],
      [{ data: 10n }, 'INVALID_DATA'],
      [{ data: () => 1 }, 'INVALID_DATA'],
      [{ data: 'x', user: 1 } as SSEEvent, 'UNKNOWN_FIELD'],
    ])('%j → %s', (event, code) => {
      expect(codeOf(() => formatEvent(event as SSEEvent))).toBe(code);
    });

    it('circular data', () => {
      const data: Record<string, unknown> = {};
      data.self = data;
      expect(codeOf(() => formatEvent({ data }))).toBe('INVALID_DATA');
    });

    it('a non-object event is a TypeError', () => {
      expect(() => formatEvent('x' as unknown as SSEEvent)).toThrow(TypeError);
    });
  });

  describe('property: what goes in is what a parser reads back', () => {
    it('random events round-trip through eventsource-parser', () => {
      fc.assert(
        fc.property(
          fc.record(
            { data: text, event: safeField, id: safeField, retry: fc.nat(), comment: text },
            { requiredKeys: ['data'] },
          ),
          (event) => {
            const { events, comments, retries } = parse(formatEvent(event));
            expect(events).toHaveLength(1);
            expect(events[0]!.data).toBe(event.data.replace(/\r\n|\r/g, '\n'));
            expect(events[0]!.event ?? '').toBe(event.event ?? '');
            if (event.id !== undefined) expect(events[0]!.id).toBe(event.id);
            expect(retries).toEqual(event.retry === undefined ? [] : [event.retry]);
            if (event.comment !== undefined) expect(comments).toEqual(event.comment.split(/\r\n|\r|\n/));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('data lines never end early: concatenated frames parse to exactly those events', () => {
      fc.assert(
        fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (datas) => {
          const { events } = parse(datas.map((data) => formatEvent({ data })).join(''));
          expect(events.map((e) => e.data)).toEqual(datas.map((d) => d.replace(/\r\n|\r/g, '\n')));
        }),
        { numRuns: 500 },
      );
    });

    it('every line break or NUL in event/id throws instead of framing', () => {
      const injected = fc
        .tuple(text, fc.constantFrom('\r', '\n', '\r\n'), text)
        .map(([a, brk, b]) => a + brk + b);
      fc.assert(
        fc.property(injected, (bad) => {
          expect(codeOf(() => formatEvent({ event: bad, data: 'x' }))).toBe('INVALID_EVENT');
          expect(codeOf(() => formatEvent({ id: bad, data: 'x' }))).toBe('INVALID_ID');
          expect(codeOf(() => formatEvent({ id: `${bad.replace(/[\r\n]/g, '')}\0`, data: 'x' }))).toBe('INVALID_ID');
        }),
        { numRuns: 1000 },
      );
    });
  });
});

describe('encodeEvent()', () => {
  it('frames once and is frozen', () => {
    const encoded = encodeEvent({ event: 'e', data: [1, 2] });
    expect(encoded.frame).toBe('event: e\ndata: [1,2]\n\n');
    expect(Object.isFrozen(encoded)).toBe(true);
    expect(encodeEvent('plain').frame).toBe('data: plain\n\n');
  });

  it('validates like formatEvent', () => {
    expect(codeOf(() => encodeEvent({ id: 'x\ny' }))).toBe('INVALID_ID');
  });
});
