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

module.exports = { projects };
