// Child process for quiet-server.test.ts: stream-generator routes on a server with no other work,
// so nothing but the streams themselves wakes its event loop. Sends its port over IPC, then stays
// silent; exits when the parent disconnects.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { streamRoute } from '@sluice/stream-generator';

const app = express();
app.get('/words', streamRoute(async function* (req, signal) {
  yield 'first;';
  await sleep(100, undefined, { signal });
  yield 'second;';
  await sleep(1200, undefined, { signal });
  yield 'third;';
}, { contentType: 'text/plain' }));
// 400 small chunks, ~0.1 ms of work each: several 5 ms slices, and the socket never fills.
app.get('/slow-cpu', streamRoute(() => (function* () {
  for (let i = 0; i < 400; i++) {
    const until = performance.now() + 0.1;
    while (performance.now() < until);
    yield `${i},`.padEnd(100, '.');
  }
})(), { contentType: 'text/plain' }));
const block = Buffer.alloc(64 * 1024, 'b');
app.get('/bulk', streamRoute(() => (function* () {
  for (let i = 0; i < 16 * 64; i++) yield block; // 64 MiB
})(), { contentType: 'application/octet-stream' }));

const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});
