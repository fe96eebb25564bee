import { describeBackendConformance } from '@streamsvc/wal-conformance';
import { MemoryLogStore, memoryWal } from './index.js';

// The same suite with simulated storage latency: concurrent appends complete out of call order, so the
// suite's ordering checks face ids that do not follow the order the writers called append in.
const store = new MemoryLogStore();

describeBackendConformance({
  backend: memoryWal,
  config: () => ({ store, appendLatencyMs: 2 }),
  invalidConfig: { config: { maxRecordsPerChannel: 0 }, path: 'maxRecordsPerChannel' },
});
