import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// V8 drops optimized code whose hidden classes died ("weak objects"). The decoder's per-parse
// objects would otherwise all die at a full GC between two parses, and the next parse would run
// unoptimized while everything is compiled again (see idleInstances in src/iterator.ts).
describe('optimized decoder code across full GCs between parses', () => {
  const fixture = join(__dirname, 'fixtures', 'parse-between-gcs.ts');
  const run = spawnSync(process.execPath, ['--expose-gc', '--trace-opt', '--trace-deopt', '--import', 'tsx', fixture], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  const trace = run.stdout ?? '';
  // The decoder's hot methods; none is a name Node's own stream or buffer code uses.
  const ours = /\b(run|line|bytesLine|hold|serial|nextBatch|pullBatch|pull|fill|refill)\b/;

  it('runs the fixture to the end', () => {
    expect(run.stderr).not.toMatch(/Error/);
    expect(trace).toContain('round 1\n');
    expect(trace).toContain('done');
  });

  it('optimizes the line splitter (otherwise the next test proves nothing)', () => {
    expect(trace).toMatch(/(completed optimizing|completed compiling)[^\n]*<JSFunction run /);
  });

  it('keeps it: no decoder method is thrown away because the last parse\'s objects died', () => {
    // From the second parse on: during the first, the fixture's own set-up objects die as well.
    const dropped = trace
      .slice(trace.indexOf('round 1\n'))
      .split('\n')
      .filter((line) => line.includes('reason: weak objects'))
      .map((line) => /<SharedFunctionInfo ([^>]*)>/.exec(line)?.[1] ?? '')
      .filter((name) => ours.test(name));
    expect(dropped).toEqual([]);
  });
});
