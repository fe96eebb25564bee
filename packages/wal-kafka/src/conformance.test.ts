import { describeBackendConformance } from '@streamsvc/wal-conformance';

import { createKafkaWal } from './kafka-wal.js';
import { FakeKafka } from './test-support/fake-kafka-port.js';

// The backend's own logic — batching, id checks, scanners, close and abort — against an in-memory
// Kafka behind the port, in the unit lane. test/conformance.int.test.ts runs the same suite against a
// real Kafka-protocol broker.
const kafka = new FakeKafka();
const backend = createKafkaWal(() => kafka.port());

describeBackendConformance({
  backend,
  config: () => backend.configSchema.parse({ brokers: ['fake:9092'], fetchMaxWaitMs: 200 }),
  invalidConfig: { config: { brokers: [] }, path: 'brokers' },
});
