// Scaffolds packages/<name> with the shared package.json shape (tshy dual build, publint + attw).
// Usage: node scripts/new-package.mjs <name> "<description>" [dep@range ...]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) throw new Error('usage: new-package.mjs <name> "<description>" [dep@range ...]');
const dir = join(import.meta.dirname, '..', 'packages', name);
if (existsSync(join(dir, 'package.json'))) throw new Error(`packages/${name} exists`);
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const dependencies = Object.fromEntries(deps.map((d) => {
  const at = d.lastIndexOf('@');
  return [d.slice(0, at), d.slice(at + 1)];
}));
const pkg = {
  name: `@sluice/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  repository: { type: 'git', url: 'git+https://github.com/sluice-js/sluice.git', directory: `packages/${name}` },
  keywords: ['express', 'middleware', 'streaming'],
  engines: { node: '>=20' },
  sideEffects: false,
  files: ['dist', 'src', 'CHANGELOG.md'],
  scripts: {
    build: 'tshy',
    test: `jest -c ../../jest.config.ts --selectProjects @sluice/${name}`,
    'lint:pkg': 'publint --strict && attw --pack .',
  },
  tshy: { exports: { '.': './src/index.ts', './package.json': './package.json' } },
  dependencies,
  peerDependencies: { express: '^4.21.0 || ^5.0.0', '@types/express': '^4.17.21 || ^5.0.0' },
  peerDependenciesMeta: { '@types/express': { optional: true } },
};
writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src' }, include: ['src'] }, null, 2) + '\n');
console.log(`created packages/${name}`);
