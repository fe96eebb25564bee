import { describeBackendConformance } from '@streamsvc/wal-conformance';

import { woodpeckerWal } from '../src/index.js';
import { describeCorruption } from './support/corruption-scenario.js';
import { describeFencing } from './support/fencing-scenario.js';
import { storageFixture } from './support/fixtures.js';
import { describeSegments } from './support/segments-scenario.js';

// Object mode on S3: moto (honours If-None-Match: *, so putIfAbsent is atomic), one server for the file.
const storage = storageFixture('object-s3');

describeBackendConformance({
  backend: woodpeckerWal,
  config: () => storage().config(),
  deps: () => storage().deps(),
  invalidConfig: { config: { mode: 'object', flushIntervalMs: 500 }, path: 'flushIntervalMs' },
});

describe('woodpecker on S3 (moto)', () => {
  describeFencing('object-s3', storage);
  describeCorruption('object-s3', storage);
  describeSegments('object-s3', storage);
});
