import { join } from 'node:path';
import { deoptsIn, droppedForWeakObjects, traceFixture } from '../../../test/support/v8-trace';

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

// Arrays born with Smi elements that turn into object elements, and a reader's hidden class lost in a
// full GC, each made some decoder code be thrown away again at every new parse. With 1 KiB chunks
// the per-chunk code (hold, push, the Readable reader) is hot enough to be optimized too.
describe('optimized decoder code from one parse to the next', () => {
  const { trace, stderr } = traceFixture(join(__dirname, 'fixtures', 'parse-between-gcs.ts'), { verbose: true, args: ['1024'] });

  it('runs the fixture to the end', () => {
    expect(stderr).not.toMatch(/Error/);
    expect(trace).toContain('done');
  });

  // Rounds alternate one-value and batch parses. Under load, code compiled in round 1 can be
  // installed only in round 3, with feedback from before the end of round 1: one late deopt that
  // says nothing about the decoder. What is checked is what recurred at every parse.
  it('is never thrown away from the fifth parse on', () => {
    // Otherwise this proves nothing: the per-chunk code is optimized, and deopts show where they happened.
    expect(trace).toMatch(/completed (optimizing|compiling)[^\n]*<JSFunction hold /);
    expect(trace).toMatch(/;;; deoptimize at </);
    expect(deoptsIn(trace, 'round 4\n', 'ndjson/src/')).toEqual([]);
  });
});
