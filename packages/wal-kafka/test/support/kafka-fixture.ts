/** Shared set-up of the integration tests: one librdkafka mock broker per test file. */
import { startKafka } from '@streamsvc/testkit';
import type { KafkaService, StartKafkaOptions } from '@streamsvc/testkit';

import { kafkaWal } from '../../src/index.js';
import type { KafkaWalConfig, KafkaWalConfigInput } from '../../src/index.js';

/** A broker for one test file, and configurations pointing at it. */
export interface KafkaFixture {
  readonly kafka: KafkaService;
  config(extra?: Partial<KafkaWalConfigInput>): KafkaWalConfig;
}

// Settings for the mock: it holds an empty fetch for the full MaxWaitTime even when a record arrives
// (a real broker answers at once), so the wait bounds tail latency; short client retries keep a test
// of a failing broker short.
export const MOCK_SETTINGS = { fetchMaxWaitMs: 50, retries: 2, retryInitialMs: 50 } as const;

/**
 * Registers beforeAll/afterAll that start one mock broker (on 127.0.0.1, random port) for the file.
 * Every configuration reaches that broker, as the conformance suites require of storage.
 */
export function kafkaFixture(options: StartKafkaOptions = {}): () => KafkaFixture {
  let kafka: KafkaService | undefined;
  beforeAll(async () => {
    kafka = await startKafka(options);
  }, 60_000);
  afterAll(async () => {
    await kafka?.stop();
  });
  return () => {
    if (kafka === undefined) throw new Error('kafka fixture not set up');
    const service = kafka;
    return {
      kafka: service,
      config: (extra = {}) =>
        kafkaWal.configSchema.parse({ brokers: [...service.brokers], ...MOCK_SETTINGS, ...extra }),
    };
  };
}
