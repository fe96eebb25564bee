// The whole suite in one run (what `npm test` executes): every package and app with a jest config is a
// jest project. Listed explicitly because jest rejects a `projects` glob that matches nothing.
const { existsSync, readdirSync } = require('node:fs');
const path = require('node:path');

const projects = ['packages', 'apps', 'tools']
  .flatMap((dir) =>
    existsSync(path.join(__dirname, dir)) ? readdirSync(path.join(__dirname, dir)).map((d) => path.join(dir, d)) : [],
  )
  .filter((dir) => existsSync(path.join(__dirname, dir, 'jest.config.cjs')))
  .map((dir) => `<rootDir>/${dir}/jest.config.cjs`);

module.exports = {
  projects,
  // A fresh worker process for every test file: a timer, socket or child a file leaks keeps running in
  // its worker and slowed a later heavy suite sixfold on 2 cores (woodpecker WAL conformance, 45 s alone,
  // 280 s after 400 s of other files). Costs about half a second per file.
  workerIdleMemoryLimit: '1MB',
};
