import http from 'node:http';
import fc from 'fast-check';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { llmStream, type LLMProtocol } from '@sluice/llm-stream';
import { createEventParser } from '../src/client/parse.js';
import { createApp, frameworks, serve, sleep } from './helpers.js';

describe.each(frameworks)('backpressure on %s', (_name, framework) => {
  it.each<LLMProtocol>(['sse', 'ndjson'])("protocol '%s': a client that does not read stops the source being pulled", async (protocol) => {
    let pulled = 0;
    const big = 'x'.repeat(64 * 1024);
    async function* model() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield big;
      }
    }
    const app = createApp(framework, (req, res, next) => void llmStream(req, res, model(), { protocol }).catch(next));
    const server = await serve(app);
    try {
      const req = http.request(`${server.url}/chat`, { method: 'POST', agent: false });
      const response = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve).end());
      response.pause(); // a reader that stopped reading
      let last = -1;
      // Wait until pulling stops (socket buffers full), bounded so a broken pump fails instead of hanging.
      for (let i = 0; i < 100 && pulled !== last; i++) {
        last = pulled;
        await sleep(50);
      }
      expect(pulled).toBe(last);
      expect(pulled).toBeLessThan(200); // 1000 × 64 KiB were available
      req.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('streamTokens() event parser', () => {
  const reference = (text: string) => {
    const events: EventSourceMessage[] = [];
    createParser({ onEvent: (e) => events.push(e) }).feed(text);
    return events.map((e) => ({ event: e.event ?? 'message', data: e.data }));
  };

  it('agrees with eventsource-parser for any text cut into any chunks, with LF, CR or CRLF line ends', () => {
    const line = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', ' ', ':', 'é', '{', '"') }).map((s) => `data: ${s}`),
      fc.constantFrom('event: token', 'event: done', ': ping', 'id: 1', 'retry: 5', 'data', 'data:x', ''),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.constantFrom('\n', '\r', '\r\n'), fc.array(fc.nat(), { maxLength: 8 }), (lines, eol, cuts) => {
        const text = lines.join(eol) + eol + eol;
        const ours: { event: string; data: string }[] = [];
        const feed = createEventParser((e) => ours.push(e));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const p of [...points, text.length]) {
          feed(text.slice(at, p));
          at = p;
        }
        expect(ours).toEqual(reference(text));
      }),
      { numRuns: 300 },
    );
  });
});
