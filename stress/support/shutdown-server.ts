// Child process for shutdown.test.ts: resume() feeds and plain sse() streams with keepalive(),
// all ended by one AbortSignal on SIGTERM. Prints its port as the first line of stdout. It must
// exit by itself once the streams ended: no process.exit(), no timer holding it.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sse } from '@sluice/sse-encoder';
import { keepalive, KeepaliveScheduler } from '@sluice/sse-keepalive';
import { MemoryEventStore, publish, resume } from '@sluice/sse-resume';

const RETRY_MS = 2000;
const deploy = new AbortController();
// One listener per open plain stream (removed when it closes): hundreds is expected, not a leak.
setMaxListeners(0, deploy.signal);
const store = new MemoryEventStore();
const scheduler = new KeepaliveScheduler();

const app = express();
app.get('/feed', keepalive({ intervalMs: 1000, scheduler }), resume({ store, stream: 'news', retryMs: RETRY_MS, signal: deploy.signal }));
app.get('/plain', sse({ retryMs: RETRY_MS }), keepalive({ intervalMs: 1000, scheduler }), (req, res) => {
  const stream = res.sse!;
  // The same signal ends the plain streams, with the hint resume() gives; the listener goes away
  // with the stream, so 500 streams that come and go leave nothing on the shared signal.
  const onDeploy = () => {
    void stream.retry(RETRY_MS);
    stream.close();
  };
  deploy.signal.addEventListener('abort', onDeploy, { once: true });
  stream.signal.addEventListener('abort', () => deploy.signal.removeEventListener('abort', onDeploy), { once: true });
  void stream.send({ event: 'hello', data: 'plain' });
});

const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  void publish(store, 'news', { event: 'hello', data: 'feed' });
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

process.once('SIGTERM', () => {
  deploy.abort(); // every stream: `retry:` hint, then end
  // Stop accepting. The README's recipe as is: keep-alive connections of the streams that just
  // ended are closed by Node as they go idle, nothing more is needed (measured here).
  server.close();
  process.stdout.write(`shutdown: ${scheduler.size} streams watched after abort\n`);
});
