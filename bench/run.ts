// `npm run bench`: runs every bench/*.bench.ts in its own process (so memory figures are not
// polluted by the previous bench) and, with --write, records the Markdown into BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

const dir = import.meta.dirname;
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const write = process.argv.includes('--write');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const sections: string[] = [];
let failed = 0;
for (const file of files) {
  console.error(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) failed++;
  sections.push(run.stdout.trim());
}

if (write) {
  const path = join(dir, '..', 'BENCHMARKS.md');
  const head = readFileSync(path, 'utf8').split('<!-- results -->')[0];
  const machine = `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`;
  writeFileSync(path, `${head}<!-- results -->\n\n_Last run: ${machine}._\n\n${sections.join('\n\n')}\n`);
  console.error(`\nwrote ${path}`);
}
process.exitCode = failed ? 1 : 0;
