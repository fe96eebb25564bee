import { describeWalConformance } from '@streamsvc/wal-conformance';

import { woodpeckerWal } from '../src/index.js';
import { storageFixture } from './support/fixtures.js';

// wal-core's WAL over the woodpecker backend on local disk, at Milvus's scale (1000 operations from 10
// writers per pchannel and term), every append durable (fdatasync). The heaviest suite of the repository:
// on a 2-core machine shared with other suites a single wait may take longer than the default 10 s.
const storage = storageFixture('local');

describeWalConformance({
  backend: woodpeckerWal,
  waitTimeoutMs: 20_000,
  config: () => storage().config(),
  deps: () => storage().deps(),
});
