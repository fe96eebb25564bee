import { describeBackendConformance } from '@streamsvc/wal-conformance';

import { kafkaWal } from '../src/index.js';
import { kafkaFixture } from './support/kafka-fixture.js';

// One mock broker for the whole suite: the suite reopens pchannels through new openers (a new node
// taking over) and expects the data to be there, as on one Kafka cluster. The fencing scenarios are
// skipped by the suite itself (capability fencing: 'term-only'), with its reason printed.
const kafka = kafkaFixture();

describeBackendConformance({
  backend: kafkaWal,
  config: () => kafka().config(),
  invalidConfig: { config: { brokers: ['127.0.0.1:0'] }, path: 'brokers.0' },
});
