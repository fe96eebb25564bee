import { describeCorruption } from './support/corruption-scenario.js';
import { describeFencing } from './support/fencing-scenario.js';
import { storageFixture } from './support/fixtures.js';

describe('woodpecker on local disk', () => {
  const storage = storageFixture('local');
  describeFencing('local', storage);
  describeCorruption('local', storage);
});

describe('woodpecker on the local-filesystem object store', () => {
  const storage = storageFixture('object-fs');
  describeFencing('object-fs', storage);
  describeCorruption('object-fs', storage);
});
