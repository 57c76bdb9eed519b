/** @jest-config-loader esbuild-register */
// Stand-alone config for the reliability suite, the same as the root's 'stress' project plus the
// moduleNameMapper the package projects use (tests run from TypeScript source). Use it until the
// root project has the mapper: `SLUICE_STRESS=1 npx jest -c stress/jest.config.ts`.
import { join } from 'node:path';
import type { Config } from 'jest';

const root = join(__dirname, '..');
const config: Config = {
  rootDir: root,
  projects: [
    {
      displayName: 'stress',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/*.test.ts'],
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: join(root, 'tsconfig.json') }] },
      moduleNameMapper: {
        '^@sluice/([^/]+)$': join(root, 'packages/$1/src/index.ts'),
        '^@sluice/([^/]+)/([^/]+)$': join(root, 'packages/$1/src/$2/index.ts'),
        '^(\\.{1,2}/.*)\\.js$': '$1',
      },
    },
  ],
};
export default config;
