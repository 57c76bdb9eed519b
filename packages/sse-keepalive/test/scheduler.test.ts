import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { SSEStream } from '@sluice/sse-encoder';
import { KeepaliveScheduler } from '@sluice/sse-keepalive';
import { normalize } from '../src/options.js';

/** Just what the scheduler reads and calls on a stream, so the order of closes is ours to pick. */
class FakeStream {
  closed = false;
  lastWriteAt = Date.now();
  bufferedBytes = 0;
  pings = 0;
  readonly res = new EventEmitter();
  send(): Promise<void> {
    this.pings++;
    this.lastWriteAt = Date.now();
    return Promise.resolve();
  }
  flush(): void {}
  close(): void {
    this.closed = true;
    this.res.emit('close');
  }
}

describe('KeepaliveScheduler buckets', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const policy = normalize({ intervalMs: 1000 });
  function watchAll(scheduler: KeepaliveScheduler, n: number): FakeStream[] {
    const streams = Array.from({ length: n }, () => new FakeStream());
    for (const s of streams) scheduler.watch(s as unknown as SSEStream, s.res as unknown as ServerResponse, policy);
    return streams;
  }

  it('drops streams that leave from anywhere in a bucket; each remaining one is pinged once per interval', () => {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 100 });
    const streams = watchAll(scheduler, 12);
    // First (the last one is swapped into its place), then that moved one, a middle one, the
    // current last, and the first slot again.
    const leaving = [0, 11, 5, 10, 1].map((i) => streams[i]!);
    for (const s of leaving) s.close();
    expect(scheduler.size).toBe(7);
    jest.advanceTimersByTime(1100);
    const staying = streams.filter((s) => !leaving.includes(s));
    expect(staying.map((s) => s.pings)).toEqual(Array(7).fill(1));
    expect(leaving.map((s) => s.pings)).toEqual(Array(5).fill(0));
    jest.advanceTimersByTime(1100);
    expect(staying.map((s) => s.pings)).toEqual(Array(7).fill(2));
    for (const s of staying) s.close();
    expect(scheduler.size).toBe(0);
    expect(scheduler.running).toBe(false);
  });

  it('does not ping a stream whose earlier bytes are still buffered (slow reader), and pings once it drains', () => {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 100 });
    const [slow, fast] = watchAll(scheduler, 2) as [FakeStream, FakeStream];
    slow.bufferedBytes = 64 * 1024;
    jest.advanceTimersByTime(1100);
    expect([slow.pings, fast.pings]).toEqual([0, 1]);
    slow.bufferedBytes = 0;
    jest.advanceTimersByTime(200);
    expect(slow.pings).toBe(1);
    for (const s of [slow, fast]) s.close();
    expect(scheduler.running).toBe(false);
  });

  it('a stream that leaves while its bucket is being visited is not pinged, and nothing is skipped', () => {
    const scheduler = new KeepaliveScheduler({ resolutionMs: 100 });
    const streams = watchAll(scheduler, 6);
    // The first ping of any stream closes two others of the same bucket, one already visited
    // or not depending on the visiting order: neither may be pinged afterwards or cause a skip.
    const [a, b] = [streams[1]!, streams[4]!];
    let closedDuringVisit = false;
    for (const s of streams) {
      const send = s.send.bind(s);
      s.send = () => {
        if (!closedDuringVisit && s !== a && s !== b) {
          closedDuringVisit = true;
          a.close();
          b.close();
        }
        return send();
      };
    }
    jest.advanceTimersByTime(1100);
    const rest = streams.filter((s) => s !== a && s !== b);
    expect(rest.map((s) => s.pings)).toEqual([1, 1, 1, 1]);
    expect(a.pings + b.pings).toBeLessThanOrEqual(1); // at most the one visited before the close
    expect(scheduler.size).toBe(4);
    jest.advanceTimersByTime(1100);
    expect(rest.map((s) => s.pings)).toEqual([2, 2, 2, 2]);
    expect(a.pings + b.pings).toBeLessThanOrEqual(1);
  });
});
