import { describeBackendConformance } from '@streamsvc/wal-conformance';
import { InMemoryPulsar, pulsarWal, pulsarWalConfigSchema } from './index.js';

// The backend suite against the in-memory PulsarPort. One "broker" for the whole suite: the suite
// reopens pchannels through new openers (a new node taking over) and expects the topics and the
// exclusive-producer fence to be there, as on a shared cluster. Small ledgers, so that reads, ids and
// truncation cross ledger boundaries.
const port = new InMemoryPulsar({ maxEntriesPerLedger: 16 });

describeBackendConformance({
  backend: pulsarWal,
  config: () => pulsarWalConfigSchema.parse({ port }),
  invalidConfig: { config: { port, operationTimeoutMs: 5 }, path: 'operationTimeoutMs' },
});
