import { describeBackendConformance } from '@streamsvc/wal-conformance';

import { woodpeckerWal } from '../src/index.js';
import { storageFixture } from './support/fixtures.js';

// Object mode on the local-filesystem ObjectStore (link-based atomic putIfAbsent).
const storage = storageFixture('object-fs');

describeBackendConformance({
  backend: woodpeckerWal,
  config: () => storage().config(),
  deps: () => storage().deps(),
  invalidConfig: { config: { mode: 'object', maxParallelUploads: 0 }, path: 'maxParallelUploads' },
});
