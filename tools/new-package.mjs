#!/usr/bin/env node
// Scaffolds packages/<name> with the house layout: package.json (exports map, Nx tags), tsconfig.json
// (typecheck of src + tests), tsconfig.lib.json (build of src), jest.config.cjs, src/index.ts, README.md.
// Usage: node tools/new-package.mjs <name> <layer> "<description>"
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [name, layer, description] = process.argv.slice(2);
if (!name || !layer || !description) {
  console.error('usage: node tools/new-package.mjs <name> <layer> "<description>"');
  process.exit(2);
}
const dir = path.resolve(import.meta.dirname, '..', 'packages', name);
if (existsSync(dir)) {
  console.error(`${dir} exists`);
  process.exit(2);
}
mkdirSync(path.join(dir, 'src'), { recursive: true });
const write = (file, text) => writeFileSync(path.join(dir, file), text);
const json = (v) => JSON.stringify(v, null, 2) + '\n';
write(
  'package.json',
  json({
    name: `@streamsvc/${name}`,
    version: '0.1.0',
    description,
    license: 'Apache-2.0',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': { '@streamsvc/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', '!dist/**/*.test.*'],
    scripts: {
      build: 'tsc -b tsconfig.lib.json',
      typecheck: 'tsc -p tsconfig.json',
      lint: 'eslint .',
      test: 'jest src/',
      'test-int': 'jest test/',
    },
    dependencies: { '@streamsvc/common': 'workspace:*' },
    devDependencies: { '@types/node': 'catalog:', jest: 'catalog:', typescript: 'catalog:' },
    nx: { tags: ['type:lib', `layer:${layer}`] },
  }),
);
write(
  'tsconfig.json',
  json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { composite: false, incremental: false, noEmit: true, types: ['node', 'jest'] },
    include: ['src/**/*.ts', 'test/**/*.ts'],
  }),
);
write(
  'tsconfig.lib.json',
  json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'tsconfig.lib.tsbuildinfo' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.test.ts'],
    references: [{ path: '../common/tsconfig.lib.json' }],
  }),
);
write('jest.config.cjs', "module.exports = require('../../jest.preset.cjs')(__dirname);\n");
write('src/index.ts', `/**\n * @streamsvc/${name} — ${description}\n */\nexport {};\n`);
write('README.md', `# @streamsvc/${name}\n\n${description}\n`);
console.log(`created ${dir}`);
