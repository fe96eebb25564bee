import { describeWalConformance } from '@streamsvc/wal-conformance';
import { MemoryLogStore, memoryWal } from './index.js';

// wal-core's WAL over the memory backend, at Milvus's scale: 1000 operations from 10 writers per
// pchannel and term. One store for the run: the suite reopens pchannels under new terms through new
// openers (a new node taking over) and expects the log and the writer fence to be there.
const store = new MemoryLogStore();

describeWalConformance({
  backend: memoryWal,
  config: () => ({ store, appendLatencyMs: 0 }),
  messageCount: 1000,
  writers: 10,
});
