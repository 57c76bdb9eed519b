import { join } from 'node:path';
import { droppedForWeakObjects, traceFixture } from '../../../test/support/v8-trace';

// V8 drops optimized code whose hidden classes died ("weak objects"). The decoder's per-parse
// objects would otherwise all die at a full GC between two parses, and the next parse would run
// unoptimized while everything is compiled again (see idleInstances in src/iterator.ts).
describe('optimized decoder code across full GCs between parses', () => {
  const { trace, stderr } = traceFixture(join(__dirname, 'fixtures', 'parse-between-gcs.ts'));
  // The decoder's hot methods; none is a name Node's own stream or buffer code uses.
  const ours = /\b(run|mixedRun|walk|line|bytesLine|hold|serial|nextBatch|pullBatch|pull|fill|refill|parseLines)\b/;

  it('runs the fixture to the end', () => {
    expect(stderr).not.toMatch(/Error/);
    expect(trace).toContain('round 1\n');
    expect(trace).toContain('done');
  });

  it('optimizes the line splitter (otherwise the next test proves nothing)', () => {
    expect(trace).toMatch(/(completed optimizing|completed compiling)[^\n]*<JSFunction mixedRun /);
  });

  it('keeps it: no decoder method is thrown away because the last parse\'s objects died', () => {
    // From the second parse on: during the first, the fixture's own set-up objects die as well.
    expect(droppedForWeakObjects(trace, 'round 1\n', ours)).toEqual([]);
  });
});
