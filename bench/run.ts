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

const sections = new Map<string, string>();
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
  sections.set(file, run.stdout.trim());
}

if (write) {
  // Each bench's section is kept between markers, so a filtered run replaces only its own sections.
  const path = join(dir, '..', 'BENCHMARKS.md');
  const [head, results = ''] = readFileSync(path, 'utf8').split('<!-- results -->');
  const kept = new Map<string, string>();
  for (const m of results.matchAll(/<!-- bench: (\S+) -->\n([\s\S]*?)(?=<!-- bench: |$)/g)) kept.set(m[1]!, m[2]!.trim());
  for (const [file, text] of sections) kept.set(file, `${text}\n\n_Run: ${stamp()}._`);
  const body = [...kept].sort(([a], [b]) => a.localeCompare(b)).map(([file, text]) => `<!-- bench: ${file} -->\n${text}`);
  writeFileSync(path, `${head}<!-- results -->\n\n${body.join('\n\n')}\n`);
  console.error(`\nwrote ${path}`);
}

function stamp(): string {
  return `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
process.exitCode = failed ? 1 : 0;
