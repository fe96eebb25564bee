import { describeWalConformance } from '@streamsvc/wal-conformance';
import { MemoryLogStore, memoryWal } from './index.js';

// The WAL suite again with simulated storage latency (each append takes 1–3 ms and completes out of
// call order), so commits really overlap their body writes and ids do not follow tt order. Fewer
// operations than the Milvus-scale run in wal-conformance.test.ts, to keep the unit lane fast.
const store = new MemoryLogStore();

describeWalConformance({
  backend: memoryWal,
  config: () => ({ store, appendLatencyMs: 2 }),
  messageCount: 60,
  writers: 10,
  label: 'with append latency',
});
