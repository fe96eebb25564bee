/**
 * @streamsvc/wal-kafka — a streamsvc WAL backend on Kafka through kafkajs: one single-partition topic
 * per pchannel, one record per message, partition offsets as message ids, term-only fencing.
 *
 * ```ts
 * import { kafkaWal } from '@streamsvc/wal-kafka';
 * const opener = await kafkaWal.createOpener(kafkaWal.configSchema.parse({ brokers: ['127.0.0.1:9092'] }), {
 *   logger,
 *   clock,
 * });
 * ```
 */
export { kafkaWal, createKafkaWal } from './kafka-wal.js';
export { createKafkajsPort } from './kafkajs-port-loader.js';
export { kafkaWalConfigSchema } from './config.js';
export { kafkaMessageIds } from './message-ids.js';
export { toWalError as kafkaErrorToWalError } from './errors.js';

export type { KafkaPortFactory } from './kafka-wal.js';
export type { KafkaWalConfig, KafkaWalConfigInput } from './config.js';
export type {
  KafkaPort,
  KafkaWriter,
  KafkaFetcher,
  KafkaRecord,
  FetchResult,
  FetcherOptions,
  WriterOptions,
  PartitionOffsets,
} from './kafka-port.js';
