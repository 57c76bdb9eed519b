import { encodeEvent, SSEFormatError, type SSEEvent } from '@sluice/sse-encoder';
import { publish, type EventStore, type StoredEvent } from '@sluice/sse-resume';
import { waitUntil } from './helpers.js';

/** What a store under contract test provides; every `create()` is a separate history. */
export interface ContractHarness {
  /** A new store with exact retention of `maxEvents` (default: large). */
  create(options?: { maxEvents?: number }): EventStore | Promise<EventStore>;
  /** Releases everything `create()` made. */
  cleanup(): Promise<void>;
}

const appendOf = (store: EventStore) => async (stream: string, event: SSEEvent) => store.append(stream, event);
const datas = (events: readonly StoredEvent[]) => events.map((e) => e.event.data);

/**
 * The behaviour every `EventStore` shares, run against MemoryEventStore and RedisEventStore. Only
 * what `resume()` relies on: store-specific details (id format, ttl, error to the appender) are
 * tested next to each store.
 */
export function describeEventStoreContract(name: string, setup: () => ContractHarness, describeFn: jest.Describe = describe): void {
  describeFn(`EventStore contract: ${name}`, () => {
    let harness: ContractHarness;
    beforeEach(() => (harness = setup()));
    afterEach(() => harness.cleanup());

    it('assigns increasing ids per stream, sets them on the frame, and replays exactly after an id', async () => {
      const store = await harness.create();
      const append = appendOf(store);
      const a1 = await append('a', { data: 'x' });
      await append('b', { data: 'y' });
      const a2 = await append('a', { data: 'z' });
      const a3 = await append('a', { data: 'w' });
      const all = await store.readAfter('a', undefined);
      expect(all.status).toBe('ok');
      expect(all.events.map((e) => e.id)).toEqual([a1, a2, a3]);
      expect(all.events[1]!.encoded.frame).toBe(`id: ${a2}\ndata: z\n\n`);
      expect(await store.readAfter('a', a1)).toEqual({ status: 'ok', events: all.events.slice(1) });
      expect(await store.readAfter('a', a3)).toEqual({ status: 'ok', events: [] });
      expect(datas((await store.readAfter('b', undefined)).events)).toEqual(['y']);
      expect(await store.readAfter('never', undefined)).toEqual({ status: 'ok', events: [] });
    });

    it('keeps every field and the exact frame encodeEvent makes', async () => {
      const store = await harness.create();
      const events: SSEEvent[] = [
        { data: { n: 1, s: 'é\n' } },
        { event: 'note', data: 'two\nlines\r\nthree' },
        { data: 42 },
        { data: '42' },
        { event: 'ping' },
        { comment: 'c', retry: 100, data: [1, null] },
        { data: '' },
      ];
      for (const event of events) await store.append('s', event);
      const { events: stored } = await store.readAfter('s', undefined);
      expect(stored.map((e) => e.event)).toEqual(events.map((e, i) => ({ ...e, id: stored[i]!.id })));
      for (const e of stored) expect(e.encoded.frame).toBe(encodeEvent(e.event).frame);
    });

    it('reports garbage ids as malformed, with every retained event', async () => {
      const store = await harness.create();
      await store.append('s', { data: '1' });
      for (const bad of ['', 'nope', 'a-', '-1', 'x-ZZ', 'x-1.5', '42']) {
        expect(await store.readAfter('s', bad)).toMatchObject({ status: 'malformed', events: [{ event: { data: '1' } }] });
      }
    });

    it("reports another deployment's later id as unknown, with every retained event", async () => {
      const store = await harness.create();
      const other = await harness.create();
      const mine = await store.append('s', { data: 'mine' });
      await other.append('s', { data: 'x' });
      const theirs = await other.append('s', { data: 'y' });
      const result = await store.readAfter('s', theirs);
      expect(result.status).toBe('unknown');
      expect(result.events.map((e) => e.id)).toEqual([mine]);
    });

    it('rejects a bad event or stream and stores nothing', async () => {
      const store = await harness.create();
      const attempt = (stream: string, event: unknown) => Promise.resolve().then(() => store.append(stream, event as SSEEvent));
      await expect(attempt('s', { id: '1', data: 'x' })).rejects.toThrow(TypeError);
      await expect(attempt('s', { event: 'a\nb', data: 'x' })).rejects.toThrow(SSEFormatError);
      await expect(attempt('s', { data: 1n })).rejects.toThrow(SSEFormatError);
      await expect(attempt('s', { date: 'typo' })).rejects.toThrow(SSEFormatError);
      await expect(attempt('s', null)).rejects.toThrow(TypeError);
      await expect(attempt('', { data: 'x' })).rejects.toThrow(TypeError);
      expect(await store.readAfter('s', undefined)).toEqual({ status: 'ok', events: [] });
    });

    it('keeps the newest maxEvents; an id whose successors were evicted is expired', async () => {
      const store = await harness.create({ maxEvents: 3 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await store.append('s', { data: String(i) }));
      expect(datas((await store.readAfter('s', undefined)).events)).toEqual(['2', '3', '4']);
      expect(await store.readAfter('s', ids[2])).toMatchObject({ status: 'ok' });
      expect(datas((await store.readAfter('s', ids[2])).events)).toEqual(['3', '4']);
      // (ids[1], evicted but with its successor retained, is 'ok' in memory and a conservative
      // 'expired' in Redis, which keeps no trimmed ids: tested per store.)
      const missed = await store.readAfter('s', ids[0]);
      expect(missed.status).toBe('expired');
      expect(datas(missed.events)).toEqual(['2', '3', '4']);
    });

    it('delivers appends made after subscribe() settled, in order, per stream, until unsubscribed', async () => {
      const store = await harness.create();
      await store.append('s', { data: 'before' });
      const seen: unknown[] = [];
      const witness: unknown[] = [];
      const unsubscribe = await store.subscribe('s', undefined, (e) => seen.push(e.event.data));
      const unwitness = await store.subscribe('s', undefined, (e) => witness.push(e.event.data));
      for (let i = 0; i < 20; i++) await store.append(i % 2 ? 'other' : 's', { data: String(i) });
      await waitUntil(() => seen.length >= 10);
      expect(seen).toEqual(['0', '2', '4', '6', '8', '10', '12', '14', '16', '18']);
      unsubscribe();
      unsubscribe();
      await store.append('s', { data: 'after' });
      // The witness proves the event went out; the unsubscribed callback must not have had it.
      await waitUntil(() => witness.includes('after'));
      expect(seen).toHaveLength(10);
      unwitness();
    });

    it('gives every subscriber the same frame, serialized once; a throwing subscriber does not stop the others', async () => {
      const store = await harness.create();
      const frames = new Set<unknown>();
      let delivered = 0;
      await store.subscribe('s', undefined, () => {
        throw new Error('boom');
      });
      for (let i = 0; i < 200; i++) {
        await store.subscribe('s', undefined, (e) => {
          frames.add(e.encoded);
          delivered++;
        });
      }
      let serialized = 0;
      await Promise.resolve()
        .then(() => store.append('s', { data: { toJSON: () => (serialized++, 'payload') } }))
        .catch(() => {}); // the memory store rethrows the subscriber's error to the appender
      await waitUntil(() => delivered === 200);
      expect(serialized).toBe(1);
      expect(frames.size).toBe(1);
      expect([...frames][0]).toMatchObject({ frame: expect.stringMatching(/data: "payload"\n\n$/) });
    });

    it('works with publish()', async () => {
      const store = await harness.create();
      const id = await publish(store, 's', 'hello');
      await publish(store, 's', { event: 'note', data: { a: 1 } });
      expect((await store.readAfter('s', id)).events[0]!.encoded.frame).toMatch(/^event: note\nid: .+\ndata: {"a":1}\n\n$/);
    });
  });
}
