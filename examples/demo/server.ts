// The Sluice demo: one Express server composing the packages the way users will.
// `npm install && npm run demo`, then open the printed URL.
import { readFileSync } from 'node:fs';
import express from 'express';
import { createSSEStream, sse, type SSEStream } from '@sluice/sse-encoder';
import { keepalive } from '@sluice/sse-keepalive';
import { MemoryEventStore, publish, resume } from '@sluice/sse-resume';
import { streamRoute } from '@sluice/stream-generator';
import { ndjsonResponse } from '@sluice/ndjson';
import { createCancelRegistry, llmStream } from '@sluice/llm-stream';
import { chooseProvider, type ChatMessage, type Provider } from './provider.js';

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer or listener behind. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface Demo {
  app: express.Express;
  /** Stops the feed publisher, ends every open stream and the offline model. */
  close(): Promise<void>;
}

export async function createDemo(provider?: Provider): Promise<Demo> {
  const model = provider ?? (await chooseProvider());
  const app = express();
  const stop = new AbortController();
  const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
  app.get('/', (_req, res) => res.type('html').send(page));

  // The seed's number stream: one event a second until the client leaves; pings when idle.
  app.get('/api/counter', sse({ retryMs: 2000 }), keepalive({ intervalMs: 10_000 }), async (_req, res) => {
    const stream = res.sse!;
    for (let n = 1; !stream.closed; n++) {
      await stream.send({ event: 'count', id: n, data: { n, at: new Date().toISOString() } });
      await sleep(1000, stream.signal);
    }
  });

  // A resumable feed: a publisher appends an event every 500 ms; clients replay what they missed.
  const store = new MemoryEventStore({ maxEvents: 5000 });
  const feedStreams = new Set<SSEStream>();
  const track: express.RequestHandler = (req, res, next) => {
    const stream = createSSEStream(req, res);
    feedStreams.add(stream);
    stream.signal.addEventListener('abort', () => feedStreams.delete(stream), { once: true });
    next();
  };
  const feed = resume({ store, stream: 'demo-feed', retryMs: 1000, signal: stop.signal });
  app.get('/api/feed', track, keepalive({ intervalMs: 10_000 }), feed);
  // Cuts every feed connection server-side, as a deploy or a flaky proxy would.
  app.post('/api/feed/drop', (_req, res) => {
    const dropped = feedStreams.size;
    for (const stream of feedStreams) stream.close();
    res.json({ dropped });
  });
  void (async () => {
    for (let seq = 1; !stop.signal.aborted; seq++) {
      await publish(store, 'demo-feed', { event: 'tick', data: { seq, at: Date.now() } });
      await sleep(500, stop.signal);
    }
  })();

  // A million-row CSV export, streamed as it is generated.
  app.get(
    '/api/export.csv',
    streamRoute(
      function* () {
        yield 'id,name,score\n';
        for (let i = 1; i <= 1_000_000; i++) yield `${i},user_${i},${(i * 0.37).toFixed(2)}\n`;
      },
      { contentType: 'text/csv; charset=utf-8', filename: 'sluice-export.csv' },
    ),
  );

  // NDJSON rows as a database cursor would produce them, a little at a time.
  app.get('/api/users.ndjson', ndjsonResponse(), (req, res) => {
    void res.ndjson!(
      (async function* () {
        for (let id = 1; id <= 40; id++) {
          await sleep(50);
          yield { id, name: `user_${id}`, joined: new Date(Date.UTC(2024, 0, id)).toISOString().slice(0, 10) };
        }
      })(),
    );
  });

  // Chat: tokens as SSE events; Stop (the browser aborting its fetch) aborts the upstream request.
  const registry = createCancelRegistry();
  app.get('/api/chat/provider', (_req, res) => res.json({ label: model.label, offline: model.offline }));
  app.post('/api/chat', express.json({ limit: '64kb' }), (req, res, next) => {
    const messages = (req.body?.messages ?? []) as ChatMessage[];
    if (!Array.isArray(messages) || messages.length === 0) {
      res.status(400).json({ error: 'messages must be a non-empty array' });
      return;
    }
    llmStream(req, res, (signal) => model.complete(messages, signal), {
      registry,
      onFinish: (r) => {
        const how = r.cancelled ? 'cancelled' : r.aborted ? 'client gone' : r.error ? `error: ${r.error.message}` : 'done';
        const upstream = r.aborted || r.cancelled ? ', upstream request aborted' : '';
        console.log(`[chat] ${r.id} ${how} after ${r.text.length} characters${upstream}`);
      },
    }).catch(next);
  });
  app.post('/api/chat/cancel/:id', registry.route());

  return {
    app,
    async close() {
      stop.abort();
      for (const stream of feedStreams) stream.close();
      await model.close();
    },
  };
}

if (process.argv[1] === import.meta.filename) {
  const port = Number(process.env.PORT ?? 3000);
  const { app } = await createDemo();
  const server = app.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address() as { port: number };
    console.log(`Sluice demo on http://127.0.0.1:${actual}`);
  });
}
