import fc from 'fast-check';
import { SSEFormatError } from '@sluice/sse-encoder';
import { MemoryEventStore, publish, type StoredEvent } from '@sluice/sse-resume';

describe('MemoryEventStore', () => {
  describe('ids', () => {
    it('assigns opaque ids that strictly increase per stream, and sets them on the frame', () => {
      const store = new MemoryEventStore();
      const a1 = store.append('a', { data: 'x' });
      store.append('b', { data: 'y' });
      const a2 = store.append('a', { data: 'z' });
      expect(a1).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
      const { events } = store.readAfter('a', undefined);
      expect(events.map((e) => e.id)).toEqual([a1, a2]);
      expect(events[1]!.encoded.frame).toBe(`id: ${a2}\ndata: z\n\n`);
      expect(store.readAfter('a', a1)).toEqual({ status: 'ok', events: [events[1]] });
    });

    it("treats another store's ids (a restarted server) as unknown, and garbage as malformed", () => {
      const before = new MemoryEventStore();
      const old = before.append('s', { data: 'old' });
      const store = new MemoryEventStore();
      store.append('s', { data: 'new' });
      expect(store.readAfter('s', old).status).toBe('unknown');
      for (const bad of ['', '42', 'nope', 'a-', '-1', 'x-ZZ', 'x-1.5']) {
        expect(store.readAfter('s', bad).status).toBe('malformed');
      }
      // An id from this epoch but beyond anything issued.
      const mine = store.readAfter('s', undefined).events[0]!.id;
      const future = mine.replace(/-[0-9a-z]+$/, '-zzzz');
      expect(store.readAfter('s', future)).toMatchObject({ status: 'unknown', events: [{ id: mine }] });
    });

    it('rejects an event with an id, and a bad event without burning an id', () => {
      const store = new MemoryEventStore();
      expect(() => store.append('s', { id: '1', data: 'x' })).toThrow(TypeError);
      expect(() => store.append('s', { event: 'a\nb', data: 'x' })).toThrow(SSEFormatError);
      expect(() => store.append('s', null as never)).toThrow(TypeError);
      expect(() => store.append('', { data: 'x' })).toThrow(TypeError);
      const id = store.append('s', { data: 'ok' });
      expect(id.endsWith('-1')).toBe(true);
      expect(store.size('s')).toBe(1);
    });
  });

  describe('maxEvents', () => {
    it('keeps the newest maxEvents and reports older ids as expired', () => {
      const store = new MemoryEventStore({ maxEvents: 3 });
      const ids = Array.from({ length: 5 }, (_, i) => store.append('s', { data: String(i) }));
      expect(store.size('s')).toBe(3);
      // ids[1] was the last seen: ids[2] is retained, nothing was missed.
      expect(store.readAfter('s', ids[1]).status).toBe('ok');
      expect(store.readAfter('s', ids[1]).events.map((e) => e.event.data)).toEqual(['2', '3', '4']);
      // ids[0] was the last seen: ids[1] was evicted, so something was missed.
      expect(store.readAfter('s', ids[0])).toMatchObject({ status: 'expired' });
      expect(store.readAfter('s', ids[0]).events.map((e) => e.event.data)).toEqual(['2', '3', '4']);
    });

    it('stays O(1) per append across many evictions', () => {
      const store = new MemoryEventStore({ maxEvents: 10 });
      for (let i = 0; i < 5000; i++) store.append('s', { data: String(i) });
      expect(store.readAfter('s', undefined).events.map((e) => e.event.data)).toEqual(
        Array.from({ length: 10 }, (_, i) => String(4990 + i)),
      );
    });

    it('property: readAfter is exact when retained, and "expired" exactly when events were missed', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.constantFrom('a', 'b'), { maxLength: 60 }), (maxEvents, streams) => {
          const store = new MemoryEventStore({ maxEvents });
          const log: { stream: string; id: string }[] = [];
          for (const [i, stream] of streams.entries()) log.push({ stream, id: store.append(stream, { data: String(i) }) });
          for (const [k, { stream, id }] of log.entries()) {
            const all = log.filter((e, j) => e.stream === stream && j > k).map((e) => e.id);
            const retained = log.filter((e) => e.stream === stream).slice(-maxEvents).map((e) => e.id);
            const result = store.readAfter(stream, id);
            const missed = all.some((x) => !retained.includes(x));
            expect(result.status).toBe(missed ? 'expired' : 'ok');
            expect(result.events.map((e) => e.id)).toEqual(missed ? retained : all);
          }
        }),
      );
    });
  });

  describe('ttlMs', () => {
    afterEach(() => jest.useRealTimers());

    it('drops events older than ttlMs, lazily, and reports the gap as expired', () => {
      jest.useFakeTimers();
      const store = new MemoryEventStore({ ttlMs: 1000 });
      const first = store.append('s', { data: 'a' });
      jest.advanceTimersByTime(600);
      const second = store.append('s', { data: 'b' });
      jest.advanceTimersByTime(600);
      expect(store.readAfter('s', undefined).events.map((e) => e.id)).toEqual([second]);
      expect(store.readAfter('s', first).status).toBe('ok');
      jest.advanceTimersByTime(600);
      // Everything expired: a client that had only `first` missed `second`.
      expect(store.readAfter('s', first)).toEqual({ status: 'expired', events: [] });
      expect(store.size('s')).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('drops streams left idle for ttlMs as other streams are written, without a timer', () => {
      jest.useFakeTimers();
      const store = new MemoryEventStore({ ttlMs: 1000 });
      const old = store.append('generation-1', { data: 'a' });
      store.append('generation-2', { data: 'b' });
      jest.advanceTimersByTime(1500);
      store.append('generation-3', { data: 'c' });
      expect(store.streamCount).toBe(1);
      expect(store.readAfter('generation-1', old).status).toBe('expired');
      expect(jest.getTimerCount()).toBe(0);
    });

    it('validates options', () => {
      expect(() => new MemoryEventStore({ maxStreams: 0 })).toThrow(TypeError);
      expect(() => new MemoryEventStore({ maxEvents: 0 })).toThrow(TypeError);
      expect(() => new MemoryEventStore({ ttlMs: -5 })).toThrow(TypeError);
      expect(() => new MemoryEventStore({ maxEvents: 1.5 })).toThrow(TypeError);
    });
  });

  describe('maxStreams', () => {
    it('drops the least recently written streams past the limit; their ids read back as expired', () => {
      const store = new MemoryEventStore({ maxStreams: 3 });
      const ids = ['s1', 's2', 's3', 's4'].map((name) => store.append(name, { data: name }));
      store.append('s2', { data: 'again' }); // s2 is now the most recently written
      store.append('s5', { data: 's5' });
      expect(store.streamCount).toBe(3);
      expect(store.readAfter('s1', ids[0]).status).toBe('expired');
      expect(store.readAfter('s3', ids[2]).status).toBe('expired');
      expect(store.readAfter('s2', ids[1]).events.map((e) => e.event.data)).toEqual(['again']);
      expect(store.size('s4')).toBe(1);
      // A dropped stream written again starts afresh; an id from before still counts as a gap.
      store.append('s1', { data: 'new' });
      expect(store.readAfter('s1', ids[0]).status).toBe('expired');
    });

    it('never drops a stream someone follows', () => {
      const store = new MemoryEventStore({ maxStreams: 2 });
      const seen: string[] = [];
      const unsubscribe = store.subscribe('followed', undefined, (e) => seen.push(String(e.event.data)));
      store.append('followed', { data: 'first' });
      for (let i = 0; i < 50; i++) store.append(`other-${i}`, { data: i });
      store.append('followed', { data: 'second' });
      expect(seen).toEqual(['first', 'second']);
      expect(store.size('followed')).toBe(2);
      expect(store.streamCount).toBeLessThanOrEqual(3);
      unsubscribe();
    });

    it('holds memory flat under a stream per task (100,000 one-off streams)', () => {
      const store = new MemoryEventStore({ maxStreams: 1000 });
      for (let i = 0; i < 100_000; i++) store.append(`task-${i}`, { data: i });
      expect(store.streamCount).toBe(1000);
      expect(store.size('task-99999')).toBe(1);
      expect(store.size('task-0')).toBe(0);
    });
  });

  describe('subscribe()', () => {
    it('delivers appends in order until unsubscribed, and frees the stream afterwards', () => {
      const store = new MemoryEventStore({ ttlMs: 10_000 });
      const seen: string[] = [];
      const unsubscribe = store.subscribe('s', undefined, (e) => seen.push(e.event.data as string));
      store.append('s', { data: '1' });
      store.append('other', { data: 'x' });
      store.append('s', { data: '2' });
      expect(store.subscriberCount('s')).toBe(1);
      unsubscribe();
      unsubscribe();
      store.append('s', { data: '3' });
      expect(seen).toEqual(['1', '2']);
      expect(store.subscriberCount()).toBe(0);
    });

    it('a throwing subscriber does not stop the others; the error reaches the appender', () => {
      const store = new MemoryEventStore();
      const seen: StoredEvent[] = [];
      store.subscribe('s', undefined, () => {
        throw new Error('boom');
      });
      store.subscribe('s', undefined, (e) => seen.push(e));
      expect(() => store.append('s', { data: 'x' })).toThrow('boom');
      expect(seen).toHaveLength(1);
      expect(store.size('s')).toBe(1);
    });

    it('gives every subscriber the same frame, serialized once', () => {
      const store = new MemoryEventStore();
      const frames = new Set<unknown>();
      for (let i = 0; i < 1000; i++) store.subscribe('s', undefined, (e) => frames.add(e.encoded));
      let serialized = 0;
      store.append('s', { data: { toJSON: () => (serialized++, 'payload') } });
      expect(serialized).toBe(1);
      expect(frames.size).toBe(1);
    });
  });

  describe('publish()', () => {
    it('appends a string or an event and returns the id', async () => {
      const store = new MemoryEventStore();
      const id = await publish(store, 's', 'hello');
      await publish(store, 's', { event: 'note', data: { a: 1 } });
      expect(store.readAfter('s', id).events[0]!.encoded.frame).toMatch(/^event: note\nid: .+\ndata: {"a":1}\n\n$/);
    });

    it('rejects (not throws) when the store throws', async () => {
      const store = new MemoryEventStore();
      await expect(publish(store, 's', { id: 'x' })).rejects.toThrow(TypeError);
    });
  });
});
