import { describeBackendConformance } from '@streamsvc/wal-conformance';
import { MemoryLogStore, memoryWal } from './index.js';

// One store for the whole suite: the suite reopens pchannels through new openers (a new node taking
// over) and expects the data and the writer fence to be there, as on shared storage.
const store = new MemoryLogStore();

describeBackendConformance({
  backend: memoryWal,
  config: () => ({ store, appendLatencyMs: 0 }),
  invalidConfig: { config: { appendLatencyMs: -1 }, path: 'appendLatencyMs' },
});
