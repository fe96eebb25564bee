import type { Logger } from '@streamsvc/common';

import type { KafkaWalConfig } from './config.js';
import type { KafkaPort } from './kafka-port.js';

/**
 * The kafkajs adapter of {@link KafkaPort} (see kafkajs-port.ts), with kafkajs loaded by the first call
 * rather than with this package: a server that runs another backend never pays for it (~3 MB of heap,
 * ~15 MB resident). Exported for composition (`createKafkaWal(createKafkajsPort)` is `kafkaWal`), e.g. to
 * decorate the port in a benchmark. Rejects only if kafkajs cannot be loaded; the port's methods reject
 * with a `WalError`.
 */
export async function createKafkajsPort(config: KafkaWalConfig, logger: Logger): Promise<KafkaPort> {
  const { newKafkajsPort } = await import('./kafkajs-port.js');
  return newKafkajsPort(config, logger);
}
