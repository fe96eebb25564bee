import { describeWalConformance } from '@streamsvc/wal-conformance';
import { InMemoryPulsar, pulsarWal, pulsarWalConfigSchema } from './index.js';

// wal-core's WAL over the Pulsar backend on the in-memory PulsarPort: 500 operations from 10 writers
// per pchannel and term. Half of Milvus's 1000 to keep the package's tests near 30 s on two cores; the
// Milvus-scale run of the WAL itself is wal-memory's, and what differs here (ids across ledgers, term
// markers, fencing) shows up at this size too. One port for the run: the suite reopens pchannels
// under new terms through new openers and expects the log and the producer fence to be there.
const port = new InMemoryPulsar({ maxEntriesPerLedger: 256 });

describeWalConformance({
  backend: pulsarWal,
  config: () => pulsarWalConfigSchema.parse({ port }),
  messageCount: 500,
  writers: 10,
});
