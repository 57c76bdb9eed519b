// Child process for slow-clients.test.ts: the slow clients, kept out of the process that measures
// the fast download. Each opens `path`, pauses the response and takes 1 KiB per second from it.
// Sends { bytes: number[] } when the parent says 'stop', then closes everything and exits.
import http from 'node:http';

const [base, count] = [process.argv[2]!, Number(process.argv[3])];
const readers: Array<{ bytes: number; timer?: NodeJS.Timeout; req: http.ClientRequest }> = [];
for (let i = 0; i < count; i++) {
  const reader: (typeof readers)[number] = { bytes: 0, req: undefined as unknown as http.ClientRequest };
  reader.req = http.get(`${base}${process.argv[4] ?? (i % 2 ? '/feed' : '/gen')}`, { agent: false }, (res) => {
    res.pause();
    res.on('error', () => {});
    // Phases spread the reads over the second instead of one burst.
    reader.timer = setTimeout(function tick() {
      const chunk = res.read(1024) as Buffer | null;
      if (chunk) reader.bytes += chunk.length;
      reader.timer = setTimeout(tick, 1000);
    }, (i * 1000) / count);
  });
  reader.req.on('error', () => {});
  readers.push(reader);
}
process.send!({ opened: count });
process.on('message', () => {
  for (const r of readers) {
    clearTimeout(r.timer);
    r.req.destroy();
  }
  process.send!({ bytes: readers.map((r) => r.bytes) }, () => process.disconnect());
});
