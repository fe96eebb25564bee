import { describeWalConformance } from '@streamsvc/wal-conformance';

import { kafkaWal } from '../src/index.js';
import { kafkaFixture } from './support/kafka-fixture.js';

// wal-core's WAL over the Kafka backend on one mock broker, at Milvus's scale (1000 operations from 10
// writers per pchannel and term). `fencing` is skipped by the suite itself (capability term-only).
const kafka = kafkaFixture();

describeWalConformance({
  backend: kafkaWal,
  config: () => kafka().config(),
  messageCount: 1000,
  writers: 10,
  waitTimeoutMs: 20_000,
});
