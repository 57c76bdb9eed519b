import express from 'express';
import express4 from 'express4';
import { EventSource } from 'eventsource';
import { flakyFeed } from './flaky-feed.js';
import { waitUntil } from './helpers.js';

type Factory = typeof express;
const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

describe.each(frameworks)('resume() with the eventsource npm client on %s', (_name, framework) => {
  it('reconnects by itself after retry: with Last-Event-ID and ends with every event once, in order', async () => {
    const feed = await flakyFeed(framework(), 150);
    const received: string[] = [];
    const ids: string[] = [];
    const source = new EventSource(`${feed.server.url}/feed`);
    source.onmessage = (e) => {
      received.push(e.data);
      ids.push(e.lastEventId);
    };
    try {
      await feed.run(60, 20);
      await waitUntil(() => received.length >= 60, 10_000);
      expect(received).toEqual(Array.from({ length: 60 }, (_, i) => String(i + 1)));
      expect(feed.lastEventIds.length).toBeGreaterThanOrEqual(2);
      expect(feed.lastEventIds[0]).toBeUndefined();
      // The reconnect carried the id of the last event that got through before the drop
      // (event 20 is published just before the socket is destroyed, so it may not have).
      const resumedAfter = ids.indexOf(feed.lastEventIds[1]!);
      expect(resumedAfter).toBeGreaterThanOrEqual(10);
      expect(resumedAfter).toBeLessThan(20);
    } finally {
      source.close();
      feed.server.close();
    }
  }, 30_000);
});
