import type { Logger } from '@streamsvc/common';
import type { WalBackend, WalBackendDeps, WalCapabilities, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { kafkaWalConfigSchema } from './config.js';
import type { KafkaWalConfig } from './config.js';
import type { KafkaPort } from './kafka-port.js';
import { createKafkajsPort } from './kafkajs-port-loader.js';
import { KafkaWalOpener } from './kafka-wal-opener.js';
import { kafkaMessageIds } from './message-ids.js';

/**
 * `term-only`: without a transactional producer nothing in Kafka stops an older writer (Milvus's Kafka
 * WAL has no backend fencing either). `truncate: false`: records leave by retention; the test broker
 * has no DeleteRecords. `readOnlyOpen`: any client can read a partition next to its writer.
 */
const capabilities: WalCapabilities = Object.freeze({ fencing: 'term-only', truncate: false, readOnlyOpen: true });

/** Makes the {@link KafkaPort} of an opener: the kafkajs adapter in production, a fake in unit tests. */
export type KafkaPortFactory = (config: KafkaWalConfig, logger: Logger) => KafkaPort | Promise<KafkaPort>;

/**
 * The Kafka backend over `portFactory`. {@link kafkaWal} is this over kafkajs; tests pass a fake port.
 */
export function createKafkaWal(portFactory: KafkaPortFactory): WalBackend<KafkaWalConfig> {
  return Object.freeze({
    name: 'kafka',
    configSchema: kafkaWalConfigSchema,
    capabilities,
    messageIds: kafkaMessageIds,
    /**
     * Creates an opener: one producer and one metadata client, connected lazily (the first open
     * reaches the brokers). The configuration is validated again, so a direct call is as safe as one
     * through the registry.
     * @throws {WalError} INVALID_CONFIG listing the bad paths.
     */
    async createOpener(config: KafkaWalConfig, deps: WalBackendDeps): Promise<WalOpener> {
      const parsed = kafkaWalConfigSchema.safeParse(config);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
        throw new WalError(WalErrorCode.INVALID_CONFIG, `invalid kafka WAL configuration: ${problems.join('; ')}`, {
          cause: parsed.error,
        });
      }
      const logger = deps.logger.child({ component: 'wal-kafka' });
      return new KafkaWalOpener(parsed.data, await portFactory(parsed.data, logger), deps.clock, logger);
    },
  });
}

/**
 * The Kafka WAL backend, named `kafka`: pchannel = topic (`topicPrefix` + pchannel), partition 0; one
 * record per message; ids are partition offsets (`v1:<offset>`); term-only fencing.
 *
 * ```ts
 * const registry = WalRegistry.of([kafkaWal]);
 * const opener = await registry.createOpener('kafka', { brokers: ['127.0.0.1:9092'] }, { logger, clock });
 * ```
 */
export const kafkaWal: WalBackend<KafkaWalConfig> = createKafkaWal(createKafkajsPort);
