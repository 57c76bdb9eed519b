/** @jest-config-loader esbuild-register */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';

const root = __dirname;
const packages = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);

/** Every project runs from TypeScript source: workspace packages resolve to src, no build first. */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: join(root, 'tsconfig.json') }] },
  moduleNameMapper: {
    '^@sluice/([^/]+)$': join(root, 'packages/$1/src/index.ts'),
    '^@sluice/([^/]+)/([^/]+)$': join(root, 'packages/$1/src/$2/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
} satisfies Config['projects'] extends (infer P)[] | undefined ? Partial<Exclude<P, string>> : never;

const config: Config = {
  reporters: ['default', join(root, 'scripts/jest-summary-reporter.cjs')],
  projects: [
    ...packages.map((name) => ({
      ...shared,
      displayName: `@sluice/${name}`,
      rootDir: join(root, 'packages', name),
      testMatch: ['<rootDir>/test/**/*.test.ts'],
    })),
    // Repository-wide checks: README examples, nginx in front of the packages.
    { ...shared, displayName: 'repo', rootDir: join(root, 'test'), testMatch: ['<rootDir>/*.test.ts'] },
    // The demo runs as `npm run demo` runs it (tsx, from source), driven by a real browser.
    { ...shared, displayName: 'demo', rootDir: join(root, 'examples/demo'), testMatch: ['<rootDir>/test/**/*.test.ts'] },
    // Reliability suite (disconnect storms, slow clients, shutdown, fuzzing): `npm run test:stress`.
    ...(process.env.SLUICE_STRESS === '1'
      ? [{ ...shared, displayName: 'stress', rootDir: join(root, 'stress'), testMatch: ['<rootDir>/*.test.ts'] }]
      : []),
  ],
};
export default config;
