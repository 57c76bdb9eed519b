/** @jest-config-loader esbuild-register */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';

const root = __dirname;
const packages = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);
const transform: Config['transform'] = { '^.+\\.ts$': ['ts-jest', { tsconfig: join(root, 'tsconfig.json') }] };

const config: Config = {
  reporters: ['default', join(root, 'scripts/jest-summary-reporter.cjs')],
  projects: [
    ...packages.map((name) => ({
      displayName: `@sluice/${name}`,
      rootDir: join(root, 'packages', name),
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      transform,
      moduleNameMapper: {
        // Tests run from TypeScript source: workspace packages resolve to src, no build first.
        '^@sluice/([^/]+)$': join(root, 'packages/$1/src/index.ts'),
        '^@sluice/([^/]+)/([^/]+)$': join(root, 'packages/$1/src/$2/index.ts'),
        '^(\\.{1,2}/.*)\\.js$': '$1',
      },
    })),
    // Repository-wide checks (README examples).
    { displayName: 'repo', rootDir: join(root, 'test'), testEnvironment: 'node', testMatch: ['<rootDir>/*.test.ts'], transform },
    // Reliability suite (disconnect storms, slow clients, shutdown, fuzzing): `npm run test:stress`.
    ...(process.env.SLUICE_STRESS === '1'
      ? [{ displayName: 'stress', rootDir: join(root, 'stress'), testEnvironment: 'node', testMatch: ['<rootDir>/*.test.ts'], transform }]
      : []),
    // The demo runs as `npm run demo` runs it (tsx, from source), driven by a real browser.
    {
      displayName: 'demo',
      rootDir: join(root, 'examples/demo'),
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      transform,
    },
  ],
};
export default config;
