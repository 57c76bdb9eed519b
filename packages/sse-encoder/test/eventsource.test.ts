import { EventSource } from 'eventsource';
import express from 'express';
import { listen } from '@sluice/testing';
import { sse } from '@sluice/sse-encoder';

// The `eventsource` npm client implements the WHATWG EventSource; what it reads is what browsers read.
describe('sse() with the eventsource client', () => {
  it('receives typed events with ids and data, remembers the id, and honours retry on reconnect', async () => {
    const seen: (string | undefined)[] = [];
    let connections = 0;
    const app = express();
    app.get('/feed', sse({ retryMs: 50 }), async (req, res) => {
      const stream = res.sse!;
      connections++;
      seen.push(stream.lastEventId);
      if (connections === 1) {
        await stream.send({ event: 'greeting', id: 'g-1', data: 'hello\nworld' });
        await stream.send({ id: 'g-2', data: { n: 2 } });
        stream.close(); // server ends the stream: the client reconnects after retry
      } else {
        await stream.send({ event: 'greeting', id: 'g-3', data: 'again' });
      }
    });
    const server = await listen(app);
    const source = new EventSource(`${server.url}/feed`);
    const got: { type: string; data: string; id: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} events`)), 4000);
      const record = (e: MessageEvent) => {
        got.push({ type: e.type, data: e.data, id: e.lastEventId });
        if (got.length === 3) {
          clearTimeout(timer);
          resolve();
        }
      };
      source.addEventListener('greeting', record);
      source.addEventListener('message', record);
    });
    source.close();
    await server.close();
    expect(got).toEqual([
      { type: 'greeting', data: 'hello\nworld', id: 'g-1' },
      { type: 'message', data: '{"n":2}', id: 'g-2' },
      { type: 'greeting', data: 'again', id: 'g-3' },
    ]);
    expect(seen).toEqual([undefined, 'g-2']);
  });
});
