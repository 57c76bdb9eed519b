// @sluice/ndjson decoder against split2 + JSON.parse, ndjson and it-ndjson, on the same bytes in the
// same random chunks, plus the JSON.parse-only ceiling (lines already split into strings).
import { createRequire } from 'node:module';
import { Readable, type Transform } from 'node:stream';
import split2 from 'split2';
import { parse as itParse } from 'it-ndjson';
import { parseNDJSON } from '@sluice/ndjson';
import { median, report } from './lib.js';

const require = createRequire(import.meta.url);
const ndjsonPkg = require('ndjson') as { parse(opts?: object): Transform };

const MiB = 1024 * 1024;
const TOTAL = 100 * MiB;

// Deterministic PRNG so every run decodes the same input.
function prng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function makeInput(): { bytes: Buffer; lines: string[] } {
  const rand = prng(42);
  const names = ['Ada', 'Grace', 'Zoë', 'José', 'Ünal', '李雷', 'Ola', 'Søren'];
  const lines: string[] = [];
  let size = 0;
  for (let id = 0; size < TOTAL; id++) {
    const line = JSON.stringify({
      id,
      name: `${names[id % names.length]} ${id}`,
      email: `user${id}@example.com`,
      active: rand() < 0.5,
      score: Math.round(rand() * 1e6) / 1e3,
      tags: ['a', 'bb', 'ccc'].slice(0, 1 + (id % 3)),
      createdAt: new Date(1.7e12 + id * 1000).toISOString(),
    });
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return { bytes: Buffer.from(lines.join('\n') + '\n'), lines };
}

function randomChunks(bytes: Buffer, min: number, max: number): Buffer[] {
  const rand = prng(7);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = min + Math.floor(rand() * (max - min + 1));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

async function viaTransform(chunks: Buffer[], transform: Transform): Promise<number> {
  let count = 0;
  for await (const _ of Readable.from(chunks).pipe(transform)) count++;
  return count;
}

async function viaIterable(chunks: Buffer[], parse: (s: Readable) => AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of parse(Readable.from(chunks))) count++;
  return count;
}

const { bytes, lines } = makeInput();
const chunks = randomChunks(bytes, 1, 64 * 1024);
const mib = bytes.length / MiB;

async function rate(expected: number, run: () => Promise<number>): Promise<number> {
  return median(3, async () => {
    globalThis.gc?.();
    const t0 = performance.now();
    const count = await run();
    const s = (performance.now() - t0) / 1000;
    if (count !== expected) throw new Error(`decoded ${count} values, expected ${expected}`);
    return mib / s;
  });
}

const n = lines.length;
const sluice = await rate(n, () => viaIterable(chunks, (s) => parseNDJSON(s)));
const parseOnly = await rate(n, async () => {
  for (const line of lines) JSON.parse(line);
  return n;
});
const split = await rate(n, () => viaTransform(chunks, split2(JSON.parse)));
const ndjson = await rate(n, () => viaTransform(chunks, ndjsonPkg.parse()));
const itNdjson = await rate(n, () => viaIterable(chunks, (s) => itParse(s)));

// One 16 MiB line (a JSON string) in 16 KiB chunks: quadratic splitters re-scan it at each chunk.
const big = Buffer.from(JSON.stringify({ blob: 'x'.repeat(16 * MiB - 12) }) + '\n');
const bigChunks = randomChunks(big, 16 * 1024, 16 * 1024);
const bigMiB = big.length / MiB;
async function once(run: () => Promise<number>): Promise<number> {
  globalThis.gc?.();
  const t0 = performance.now();
  if ((await run()) !== 1) throw new Error('16 MiB line not decoded');
  return (performance.now() - t0) / 1000;
}
const bigSluice = await once(() => viaIterable(bigChunks, (s) => parseNDJSON(s, { maxLineBytes: 32 * MiB })));
const bigSplit = await once(() => viaTransform(bigChunks, split2(JSON.parse)));
const bigNdjson = await once(() => viaTransform(bigChunks, ndjsonPkg.parse()));
const bigIt = await once(() => viaIterable(bigChunks, (s) => itParse(s)));

report(
  '@sluice/ndjson — decoding',
  [
    {
      metric: `MiB/s, ${Math.round(mib)} MiB (${n.toLocaleString('en-US')} lines) in random 1 B–64 KiB chunks`,
      values: { 'parseNDJSON': sluice, 'split2+JSON.parse': split, ndjson, 'it-ndjson': itNdjson },
      target: '≥1.3× split2+JSON.parse',
      ok: sluice >= 1.3 * split,
    },
    {
      metric: 'MiB/s against the JSON.parse-only ceiling (lines already split)',
      values: { 'parseNDJSON': sluice, 'JSON.parse only': parseOnly },
      target: '≥0.85× JSON.parse only',
      ok: sluice >= 0.85 * parseOnly,
    },
    {
      metric: 'MiB/s, one 16 MiB line in 16 KiB chunks',
      values: { 'parseNDJSON': bigMiB / bigSluice, 'split2+JSON.parse': bigMiB / bigSplit, ndjson: bigMiB / bigNdjson, 'it-ndjson': bigMiB / bigIt },
      target: '≤0.1 s',
      ok: bigSluice <= 0.1,
    },
  ],
  [
    `16 MiB line, seconds: parseNDJSON ${bigSluice.toFixed(3)}, split2 ${bigSplit.toFixed(2)}, ndjson ${bigNdjson.toFixed(2)}, it-ndjson ${bigIt.toFixed(2)} (one run each).`,
    'Rows are 150–190 byte database-style records with some multi-byte UTF-8; each figure is the median of 3 runs after a warm-up; every decoder reads the same Buffers through a Node Readable.',
  ],
);
