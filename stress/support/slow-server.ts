// Child process for slow-clients.test.ts: endless SSE and generator streams plus a bulk download,
// so the server's RSS is measured without the test's clients in it. Talks to the parent over IPC
// and exits by itself when the parent disconnects.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sse } from '@sluice/sse-encoder';
import { streamRoute } from '@sluice/stream-generator';

const event = 'e'.repeat(1000);
const block = Buffer.alloc(64 * 1024, 'b');

const app = express();
// An endless feed that writes as fast as backpressure lets it: the worst case for a slow reader.
app.get('/feed', sse(), async (req, res) => {
  const stream = res.sse!;
  for (let i = 0; !stream.closed; i++) await stream.send({ id: i, data: event });
});
app.get('/gen', streamRoute(async function* () {
  for (let i = 0; ; i++) yield `${i} ${event}\n`;
}, { contentType: 'text/plain; charset=utf-8' }));
// `mb` MiB as fast as the client takes them (the same buffer each time: its bytes never change).
app.get('/bulk', streamRoute((req) => (function* () {
  const blocks = Number(req.query.mb ?? 1) * 16;
  for (let i = 0; i < blocks; i++) yield block;
})(), { contentType: 'application/octet-stream' }));

const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', () => {
  for (let i = 0; i < 2; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  process.send!({ rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers, cpu: process.cpuUsage() });
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});
