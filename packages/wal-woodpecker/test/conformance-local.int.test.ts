import { describeBackendConformance } from '@streamsvc/wal-conformance';

import { woodpeckerWal } from '../src/index.js';
import { storageFixture } from './support/fixtures.js';

// One directory and one embedded MetaKv for the whole suite: the suite reopens pchannels through new
// openers (a new node taking over) and expects the data and the fences to be there, as on one disk.
const storage = storageFixture('local');

describeBackendConformance({
  backend: woodpeckerWal,
  config: () => storage().config(),
  deps: () => storage().deps(),
  invalidConfig: { config: { mode: 'local', rootDir: '/tmp/x', flushIntervalMs: 5 }, path: 'flushIntervalMs' },
});
