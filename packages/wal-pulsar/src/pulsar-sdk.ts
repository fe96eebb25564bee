/**
 * The subset of the `pulsar-client` (apache/pulsar-client-node) API this backend uses, written down
 * here so that the package type-checks and builds without the SDK, which is an optional peer
 * dependency with a native addon. Shapes follow the SDK's `index.d.ts` (1.9 and later, which have
 * `accessMode`); only what `pulsar-sdk-port.ts` calls is listed. Type declarations only: nothing here
 * loads the SDK.
 */

/** The module's exports (`import * as Pulsar from 'pulsar-client'`). */
export interface PulsarSdk {
  readonly Client: new (config: SdkClientConfig) => SdkClient;
  readonly MessageId: SdkMessageIdStatic;
  readonly AuthenticationToken: new (params: { token: string }) => unknown;
}

export interface SdkClientConfig {
  serviceUrl: string;
  operationTimeoutSeconds?: number;
  authentication?: unknown;
  log?: (level: number, file: string, line: number, message: string) => void;
}

export interface SdkClient {
  createProducer(config: SdkProducerConfig): Promise<SdkProducer>;
  createReader(config: SdkReaderConfig): Promise<SdkReader>;
  subscribe(config: SdkConsumerConfig): Promise<SdkConsumer>;
  close(): Promise<unknown>;
}

/** The SDK's access modes; this backend uses `ExclusiveWithFencing`. */
export type SdkProducerAccessMode = 'Shared' | 'Exclusive' | 'WaitForExclusive' | 'ExclusiveWithFencing';

export interface SdkProducerConfig {
  topic: string;
  producerName?: string;
  sendTimeoutMs?: number;
  blockIfQueueFull?: boolean;
  batchingEnabled?: boolean;
  accessMode?: SdkProducerAccessMode;
}

export interface SdkProducer {
  send(message: { data: Buffer; properties?: Record<string, string> }): Promise<SdkMessageId>;
  close(): Promise<unknown>;
}

/**
 * The SDK's reader options. Note: unlike the Java, Go and C++ clients, the Node client has no
 * `startMessageIdInclusive`; the adapter starts inclusive reads just before the id instead.
 */
export interface SdkReaderConfig {
  topic: string;
  startMessageId: SdkMessageId;
  receiverQueueSize?: number;
  readerName?: string;
}

export interface SdkReader {
  /** Rejects with an error whose message contains `TimeOut` when nothing arrived within `timeoutMs`. */
  readNext(timeoutMs?: number): Promise<SdkMessage>;
  /** Synchronous in the SDK: whether a message is available after the current position. */
  hasNext(): boolean;
  close(): Promise<unknown>;
}

export interface SdkConsumerConfig {
  topic: string;
  subscription: string;
  subscriptionType?: 'Exclusive' | 'Shared' | 'KeyShared' | 'Failover';
  subscriptionInitialPosition?: 'Latest' | 'Earliest';
  receiverQueueSize?: number;
  consumerName?: string;
}

export interface SdkConsumer {
  acknowledgeCumulativeId(messageId: SdkMessageId): Promise<unknown>;
  close(): Promise<unknown>;
}

export interface SdkMessage {
  getMessageId(): SdkMessageId;
  getData(): Buffer;
  getProperties(): Record<string, string>;
}

export interface SdkMessageId {
  serialize(): Buffer;
  toString(): string;
}

export interface SdkMessageIdStatic {
  earliest(): SdkMessageId;
  latest(): SdkMessageId;
  deserialize(data: Buffer): SdkMessageId;
}
