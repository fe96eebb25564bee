import { storageFixture } from './support/fixtures.js';
import { describeSegments } from './support/segments-scenario.js';

describe('woodpecker segments on local disk', () => {
  describeSegments('local', storageFixture('local'));
});

describe('woodpecker segments on the local-filesystem object store', () => {
  describeSegments('object-fs', storageFixture('object-fs'));
});
