import { spawnSync } from 'node:child_process';

/**
 * Runs a TypeScript fixture under V8's optimization trace, with `gc()` exposed: what it printed on
 * stdout (its own lines and V8's) and stderr. `verbose` adds where in the source each deopt happened
 * (`;;; deoptimize at <file:line:column>`); `args` go to the fixture.
 */
export function traceFixture(fixture: string, { verbose = false, args = [] as string[] } = {}): { trace: string; stderr: string } {
  const flags = ['--expose-gc', '--trace-opt', verbose ? '--trace-deopt-verbose' : '--trace-deopt'];
  const run = spawnSync(process.execPath, [...flags, '--import', 'tsx', fixture, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  return { trace: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/**
 * Functions whose optimized code V8 threw away after `from` because hidden classes it checks died
 * ("weak objects"), among those whose names match `names`.
 */
export function droppedForWeakObjects(trace: string, from: string, names: RegExp): string[] {
  return trace
    .slice(trace.indexOf(from))
    .split('\n')
    .filter((line) => line.includes('reason: weak objects'))
    .map((line) => /<SharedFunctionInfo ([^>]*)>/.exec(line)?.[1] ?? '')
    .filter((name) => names.test(name));
}

/**
 * Where optimized code was thrown away (for any reason) after `from`, for deopts whose position or
 * inlined-at position is in a file whose path contains `pathPart`. Needs a `verbose` trace.
 */
export function deoptsIn(trace: string, from: string, pathPart: string): string[] {
  return trace
    .slice(trace.indexOf(from))
    .split('\n')
    .filter((line) => line.includes(';;; deoptimize at') && line.includes(pathPart))
    .map((line) => line.trim());
}
