// The whole suite in one run (what `npm test` executes): every package and app is a jest project.
module.exports = {
  projects: ['<rootDir>/packages/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs'],
};
