// Extracts every ```ts block of the root and package READMEs into .readme-examples/, one module
// per block, and type-checks them against the packages' sources with the repo's tsconfig. Blocks
// may use a few ambient names (declared in prelude.d.ts) so that they can stay short; a block
// opened with ```ts nocheck is skipped (use it only for fragments that are not TypeScript).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, '.readme-examples');
const readmes = ['README.md', ...readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'README.md'))]
  .filter((f) => existsSync(join(root, f)));

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const sources = [];
for (const readme of readmes) {
  const text = readFileSync(join(root, readme), 'utf8');
  const blocks = [...text.matchAll(/^```ts( nocheck)?\n([\s\S]*?)^```$/gm)];
  blocks.forEach((m, i) => {
    if (m[1]) return;
    const line = text.slice(0, m.index).split('\n').length;
    const name = `${readme.replace(/[/.]/g, '_')}_${i + 1}.ts`;
    // `export {}` keeps every block a module, so top-level names never collide across blocks.
    writeFileSync(join(out, name), `// ${readme}:${line}\nexport {};\n${m[2]}`);
    sources.push(name);
  });
}
writeFileSync(join(out, 'prelude.d.ts'), readFileSync(join(import.meta.dirname, 'readme-prelude.d.ts'), 'utf8'));
writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({
  extends: '../tsconfig.json',
  compilerOptions: { noUnusedLocals: false, types: ['node', 'jest'] },
  include: ['*.ts'],
}));
try {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', relative(root, out)], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  console.log(`${sources.length} README examples type-check`);
} catch (err) {
  process.stderr.write(err.stdout + err.stderr);
  process.exitCode = 1;
}
