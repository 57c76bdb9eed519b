import { spawnSync } from 'node:child_process';

/**
 * Runs a TypeScript fixture under V8's optimization trace, with `gc()` exposed: what it printed on
 * stdout (its own lines and V8's) and stderr.
 */
export function traceFixture(fixture: string): { trace: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--expose-gc', '--trace-opt', '--trace-deopt', '--import', 'tsx', fixture], {
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
