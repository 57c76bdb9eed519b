// Packs every workspace package as npm would publish it, installs the tarballs into a scratch
// project, and checks that an ESM consumer and a CommonJS consumer both type-check (nodenext,
// skipLibCheck off) and run. Catches what publint/attw cannot: a missing file in `files`, a
// runtime import of a devDependency, a broken subpath, types that only resolve inside the repo.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const scratch = mkdtempSync(join(tmpdir(), 'sluice-consumer-'));
try {
  const entries = [];
  const peers = new Set(['express@^5', '@types/express@^5', '@types/node@^20', 'typescript@~5.9.3']);
  const tarballs = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    const file = run('npm', ['pack', '--silent', '--pack-destination', scratch], pkgDir).trim().split('\n').pop();
    tarballs.push(join(scratch, file));
    for (const key of Object.keys(pkg.exports ?? { '.': '' })) {
      if (key !== './package.json') entries.push(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
    }
    for (const name of Object.keys(pkg.peerDependencies ?? {})) {
      if (!name.startsWith('@types/') && name !== 'express') peers.add(name);
    }
  }
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', ...tarballs, ...peers], scratch);

  const names = entries.map((_, i) => `m${i}`);
  const check = `for (const [name, m] of Object.entries({ ${entries.map((e, i) => `'${e}': m${i}`).join(', ')} })) {
  if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing');
}
console.log('${entries.length} entry points load');\n`;
  const usage = `const app = express();
app.get('/sse', sse(), (_req, res) => { void res.sse?.send({ event: 'x', data: 1 }); });
// @ts-expect-error send() takes a string, an SSEEvent or an EncodedEvent
app.get('/bad', sse(), (_req, res) => { void res.sse?.send(42); });\n`;
  writeFileSync(join(scratch, 'esm.mts'), `import express from 'express';
import { sse } from '@sluice/sse-encoder';
${entries.map((e, i) => `import * as ${names[i]} from '${e}';`).join('\n')}
${usage}${check}`);
  writeFileSync(join(scratch, 'cjs.cts'), `import express = require('express');
import { sse } from '@sluice/sse-encoder';
${entries.map((e, i) => `import ${names[i]} = require('${e}');`).join('\n')}
${usage}${check}`);
  // One program per flavour, as a real project is either ESM or CommonJS. (A single program that
  // loads both flavours' .d.ts would see `Express.Response.sse` declared twice with two types.)
  for (const flavour of ['esm.mts', 'cjs.cts']) {
    writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' },
      files: [flavour],
    }));
    run(join(scratch, 'node_modules/.bin/tsc'), ['-p', '.'], scratch);
  }
  process.stdout.write(`ESM consumer: ${run('node', ['out/esm.mjs'], scratch)}`);
  process.stdout.write(`CJS consumer: ${run('node', ['out/cjs.cjs'], scratch)}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
