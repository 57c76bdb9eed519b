import { join } from 'node:path';
import { droppedForWeakObjects, traceFixture } from './support/v8-trace';

// V8 drops optimized code whose hidden classes died ("weak objects"). Each response's Sink
// (@sluice/stream-generator) and SSEStream (@sluice/sse-encoder) would otherwise all die at a full
// GC between two responses, and the next one would run their hot methods unoptimized while they
// are compiled again (see idleSink and idleStream in those packages' sources).
describe('optimized response code across full GCs between responses', () => {
  const { trace, stderr } = traceFixture(join(__dirname, 'fixtures', 'respond-between-gcs.ts'));

  it('runs the fixture to the end', () => {
    expect(stderr).not.toMatch(/Error/);
    expect(trace).toContain('round 1\n');
    expect(trace).toContain('done');
  });

  it("optimizes the sink's add() and the event stream's enqueue (otherwise the next test proves nothing)", () => {
    expect(trace).toMatch(/completed optimizing[^\n]*<JSFunction add /);
    expect(trace).toMatch(/completed optimizing[^\n]*<JSFunction #enqueue /);
  });

  it("keeps them: none is thrown away because the last response's objects died", () => {
    // From the second round on: during the first, the fixture's own set-up objects die as well.
    expect(droppedForWeakObjects(trace, 'round 1\n', /^(add|get pending|#enqueue|send)$/)).toEqual([]);
  });
});
