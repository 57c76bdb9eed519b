// Graceful shutdown: 500 open SSE streams (resume() feeds and plain sse() + keepalive() streams)
// on a server in a child process. SIGTERM → one AbortSignal ends every stream with a `retry:`
// hint, server.close() → every client has its hint and a clean end within 1 s, and the process
// exits by itself with code 0.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

jest.setTimeout(60_000);

const STREAMS = 500;

interface Client {
  text: string;
  /** Length of `text` when the shutdown began. */
  mark: number;
  endedAt: number | undefined;
  complete: boolean;
}

function open(url: string, agent: http.Agent | false): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = { text: '', mark: 0, endedAt: undefined, complete: false };
    const req = http.get(url, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        client.text += text;
        if (client.text.includes('event: hello')) resolve(client);
      });
      res.on('error', () => {});
      res.once('close', () => {
        client.endedAt = performance.now();
        client.complete = res.complete;
      });
    });
    req.on('error', reject);
  });
}

it(`${STREAMS} open streams: SIGTERM ends each with a retry hint within 1 s, and the process exits by itself`, async () => {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support/shutdown-server.ts')], {
    cwd: join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const childLines: string[] = [];
  const [port] = (await once(lines, 'line')) as [string];
  lines.on('line', (line) => childLines.push(line));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  // Half the clients keep their connection alive (as browsers do), half ask to close it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    const clients: Client[] = [];
    for (let i = 0; i < STREAMS; i += 100) {
      const batch = Array.from({ length: Math.min(100, STREAMS - i) }, (_, j) =>
        open(`http://127.0.0.1:${port}${(i + j) % 2 ? '/feed' : '/plain'}`, (i + j) % 4 < 2 ? agent : false),
      );
      clients.push(...(await Promise.all(batch)));
    }
    for (const c of clients) c.mark = c.text.length;

    const t0 = performance.now();
    child.kill('SIGTERM'); // this child, by its pid
    const deadline = Date.now() + 5000;
    while (clients.some((c) => c.endedAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const ends = clients.map((c) => (c.endedAt ?? Infinity) - t0);
    const lastEnd = Math.max(...ends);
    const withHint = clients.filter((c) => /(^|\n)retry: 2000\n/.test(c.text.slice(c.mark))).length;
    const clean = clients.filter((c) => c.complete).length;

    const exitTimer = setTimeout(() => child.kill('SIGKILL'), 10_000); // only if it hangs: fails below
    const [code, signal] = await exited;
    clearTimeout(exitTimer);
    const exitMs = performance.now() - t0;
    console.log(
      `[stress] shutdown: ${STREAMS} streams (${STREAMS / 2} resume(), ${STREAMS / 2} sse()+keepalive()), ` +
        `${withHint} got a retry hint after SIGTERM, ${clean} ended cleanly, last stream ended ${lastEnd.toFixed(0)} ms after SIGTERM ` +
        `(median ${ends.sort((a, b) => a - b)[ends.length >> 1]!.toFixed(0)} ms); process exited by itself after ${exitMs.toFixed(0)} ms with code ${code} ` +
        `(signal ${signal}); child said: ${childLines.join(' | ')}`,
    );
    expect(withHint).toBe(STREAMS);
    expect(clean).toBe(STREAMS);
    expect(lastEnd).toBeLessThanOrEqual(1000);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(5000);
    expect(stderr).toBe('');
  } finally {
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
