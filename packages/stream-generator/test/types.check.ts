// Compile-time checks (root `tsc -p tsconfig.json`): which sources the types accept. Never run.
import { stream } from '@sluice/stream-generator';
import type { ServerResponse } from 'node:http';
declare const res: ServerResponse;
async function f() {
  const r = await fetch('http://x');
  await stream(res, r.body!);
  await stream(res, new ReadableStream<Uint8Array>());
  await stream(res, new ReadableStream<string>());
  await stream(res, new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('ab')); } }));
  // @ts-expect-error numbers are not chunks
  await stream(res, new ReadableStream<number>());
}
void f;
