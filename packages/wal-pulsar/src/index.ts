/**
 * @streamsvc/wal-pulsar — a WAL backend on Apache Pulsar: one topic per pchannel, an
 * ExclusiveWithFencing producer per owner, readers from any id, truncation by a dedicated cursor.
 * The `pulsar-client` SDK is an optional peer dependency, loaded on the first opener that needs it.
 *
 * ```ts
 * import { pulsarWal, InMemoryPulsar } from '@streamsvc/wal-pulsar';
 * const opener = await pulsarWal.createOpener(
 *   pulsarWal.configSchema.parse({ serviceUrl: 'pulsar://localhost:6650' }), // or { port: new InMemoryPulsar() }
 *   { logger, clock },
 * );
 * ```
 */
export { pulsarWal, createPulsarWal } from './pulsar-wal.js';
export { pulsarWalConfigSchema, topicOf } from './config.js';
export { pulsarMessageIds, PULSAR_WAL_NAME } from './pulsar-message-id.js';
export { InMemoryPulsar } from './in-memory-pulsar.js';
export { createSdkPulsarPort, loadPulsarSdk, toWalError, PULSAR_RESULT_CODES } from './pulsar-sdk-port.js';
export { BackendProperty } from './topic-claim.js';

export type { PulsarWalConfig, PulsarWalConfigInput } from './config.js';
export type { PulsarMessageId, PulsarMessageIdCodec } from './pulsar-message-id.js';
export type { InMemoryPulsarOptions, InMemoryTopicStats } from './in-memory-pulsar.js';
export type { SdkPortConfig, PulsarSdkLoader } from './pulsar-sdk-port.js';
export type {
  PulsarPort,
  PulsarPortMessage,
  PulsarPortProducer,
  PulsarPortReader,
  PulsarProducerOptions,
  PulsarReadStart,
} from './pulsar-port.js';
export type {
  PulsarSdk,
  SdkClient,
  SdkClientConfig,
  SdkConsumer,
  SdkConsumerConfig,
  SdkMessage,
  SdkMessageId,
  SdkMessageIdStatic,
  SdkProducer,
  SdkProducerAccessMode,
  SdkProducerConfig,
  SdkReader,
  SdkReaderConfig,
} from './pulsar-sdk.js';
