import { describeWalConformance } from '@streamsvc/wal-conformance';

import { woodpeckerWal } from '../src/index.js';
import { storageFixture } from './support/fixtures.js';

// wal-core's WAL over the woodpecker backend on local disk, at Milvus's scale (1000 operations from 10
// writers per pchannel and term), every append durable (fdatasync).
const storage = storageFixture('local');

describeWalConformance({
  backend: woodpeckerWal,
  config: () => storage().config(),
  deps: () => storage().deps(),
});
