// Shared jest settings: tests run against TypeScript sources (no prior build), transformed by swc.
// `@streamsvc/<pkg>` resolves to that package's (or app's) src/index.ts, and `./x.js` specifiers to `./x.ts`.
const path = require('node:path');

const root = __dirname;

/** @param {string} dir absolute path of the package @returns {import('jest').Config} */
module.exports = function preset(dir) {
  return {
    displayName: path.basename(dir),
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.int.test.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: {
            parser: { syntax: 'typescript', explicitResourceManagement: true },
            target: 'es2022',
          },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    moduleNameMapper: {
      '^@streamsvc/([a-z0-9-]+)$': [`${root}/packages/$1/src/index.ts`, `${root}/apps/$1/src/index.ts`],
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    moduleFileExtensions: ['ts', 'js', 'json', 'node'],
    testTimeout: 30_000,
  };
};
