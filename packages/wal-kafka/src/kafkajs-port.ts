import type { Logger as StreamsvcLogger } from '@streamsvc/common';
import { Kafka, logLevel as KafkaLogLevel, Partitioners } from 'kafkajs';
import type { logCreator as KafkaLogCreator, Producer, RetryOptions } from 'kafkajs';
import Cluster from 'kafkajs/src/cluster/index.js';
import type { InternalBroker, ProtocolRequest } from 'kafkajs/src/cluster/index.js';
import defaultSocketFactory from 'kafkajs/src/network/socketFactory.js';
import produceV3Response from 'kafkajs/src/protocol/requests/produce/v3/response.js';
import type { ProduceV3Response } from 'kafkajs/src/protocol/requests/produce/v3/response.js';
import createRetry from 'kafkajs/src/retry/index.js';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWalConfig } from './config.js';
import { toWalError } from './errors.js';
import { encodeProduceRequest, PRODUCE_API_KEY, PRODUCE_API_VERSION } from './produce-request.js';
import type {
  FetcherOptions,
  FetchResult,
  KafkaFetcher,
  KafkaPort,
  KafkaRecord,
  KafkaWriter,
  PartitionOffsets,
  WriterOptions,
} from './kafka-port.js';

// The only file that imports kafkajs. Both directions use its internal Cluster/Broker (connections,
// metadata, retries, errors). Reads: `broker.fetch` at an explicit offset, since the public Consumer
// must join a consumer group before it can seek, which costs a rebalance per reader (3 s on the
// librdkafka mock, more on a real broker) and offers no "assign one partition, no group" mode. Writes
// (term-only fencing): a Produce request whose body `produce-request.ts` encodes, since the public
// Producer's encoder cost more CPU per record than the rest of an append (see there). The
// transactional writer keeps the public Producer: it needs its transaction protocol. See the README.

const PARTITION = 0;
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
// What kafkajs's producer asks the broker to wait for the replicas (its `send` default), in ms.
const PRODUCE_TIMEOUT_MS = 30_000;
// Kafka's "no replica": the fetch comes from a consumer, not a follower broker.
const CONSUMER_REPLICA_ID = -1;
const OFFSET_OUT_OF_RANGE = 1;

/**
 * Builds the kafkajs adapter of {@link KafkaPort}: one produce client and one metadata/offsets client
 * per opener, one connection per reader. Connects lazily, on the first call that needs the cluster.
 * Exported for composition (`createKafkaWal(createKafkajsPort)` is `kafkaWal`), e.g. to decorate the
 * port in a benchmark; it throws nothing itself (every method rejects with a `WalError`).
 */
export function createKafkajsPort(config: KafkaWalConfig, logger: StreamsvcLogger): KafkaPort {
  return new KafkajsPort(config, logger);
}

class KafkajsPort implements KafkaPort {
  readonly #config: KafkaWalConfig;
  readonly #kafka: Kafka;
  readonly #retry: RetryOptions;
  readonly #isolationLevel: number;
  readonly #writers = new Set<KafkaWriter>();
  readonly #fetchers = new Set<KafkaFetcher>();
  #produce: Promise<Cluster> | undefined;
  #control: Promise<Cluster> | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: KafkaWalConfig, logger: StreamsvcLogger) {
    this.#config = config;
    this.#retry = { retries: config.retries, initialRetryTime: config.retryInitialMs, maxRetryTime: 5_000 };
    this.#isolationLevel = config.transactionalFencing ? READ_COMMITTED : READ_UNCOMMITTED;
    this.#kafka = new Kafka({
      brokers: [...config.brokers],
      clientId: config.clientId,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      enforceRequestTimeout: true,
      retry: this.#retry,
      logLevel: KafkaLogLevel.WARN,
      logCreator: logCreatorFor(logger),
    });
  }

  async ensureTopic(topic: string): Promise<void> {
    const control = await this.#controlCluster();
    await this.#call(`metadata of topic "${topic}"`, async () => {
      await control.addTargetTopic(topic);
      const partitions = control.findTopicPartitionMetadata(topic);
      if (!partitions.some((p) => p.partitionId === PARTITION)) {
        // The cluster answered without the topic: it does not exist and was not created.
        throw new WalError(
          WalErrorCode.UNAVAILABLE,
          `topic "${topic}" does not exist and auto-creation is ${this.#config.allowAutoTopicCreation ? 'refused by the broker' : 'off'}`,
          { retriable: false },
        );
      }
    });
  }

  async offsets(topic: string): Promise<PartitionOffsets> {
    const control = await this.#controlCluster();
    return this.#call(`offsets of topic "${topic}"`, async () => {
      await control.addTargetTopic(topic);
      const request = (fromBeginning: boolean): Promise<bigint> =>
        control
          .fetchTopicsOffset([{ topic, fromBeginning, partitions: [{ partition: PARTITION }] }])
          .then((topics) => BigInt(topics[0]?.partitions.find((p) => p.partition === PARTITION)?.offset ?? '0'));
      const [low, high] = await Promise.all([request(true), request(false)]);
      return { low, high };
    });
  }

  async openWriter(topic: string, options: WriterOptions): Promise<KafkaWriter> {
    this.#checkOpen(`writer of topic "${topic}"`);
    const writer =
      options.transactionalId === undefined
        ? await this.#produceWriter(topic)
        : await TransactionalWriter.start(this.#kafka, topic, options.transactionalId, this.#retry, this.#config);
    this.#writers.add(writer);
    return {
      send: (values) => writer.send(values),
      close: async () => {
        this.#writers.delete(writer);
        await writer.close();
      },
    };
  }

  async openFetcher(topic: string, options: FetcherOptions): Promise<KafkaFetcher> {
    this.#checkOpen(`reader of topic "${topic}"`);
    const fetcher = new ClusterFetcher(topic, this.#newCluster(`${this.#config.clientId}-${options.name}`, false), {
      fetchMaxBytes: this.#config.fetchMaxBytes,
      isolationLevel: this.#isolationLevel,
    });
    this.#fetchers.add(fetcher);
    return {
      fetch: (offset, maxWaitMs) => fetcher.fetch(offset, maxWaitMs),
      close: async () => {
        this.#fetchers.delete(fetcher);
        await fetcher.close();
      },
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closes: Promise<unknown>[] = [...this.#fetchers, ...this.#writers].map((c) => c.close());
      if (this.#produce !== undefined) closes.push(this.#produce.then((c) => c.disconnect()));
      if (this.#control !== undefined) closes.push(this.#control.then((c) => c.disconnect()));
      await Promise.allSettled(closes);
    })();
    return this.#closing;
  }

  #checkOpen(what: string): void {
    if (this.#closing !== undefined) throw WalError.closed(`${what}: the Kafka client`);
  }

  async #call<T>(what: string, body: () => Promise<T>): Promise<T> {
    this.#checkOpen(what);
    try {
      return await body();
    } catch (e) {
      throw toWalError(e, what);
    }
  }

  async #produceWriter(topic: string): Promise<ClusterWriter> {
    // A failed connect is not cached: the next open tries again (the broker may be back).
    this.#produce ??= this.#call('connecting the producer', async () => {
      // One request at a time per connection: with retries, a later batch must never overtake an
      // earlier one (each pchannel also keeps only one batch in flight, see append-batcher.ts).
      const cluster = this.#newCluster(`${this.#config.clientId}`, this.#config.allowAutoTopicCreation, 1);
      await cluster.connect();
      return cluster;
    }).catch((e: unknown) => {
      this.#produce = undefined;
      throw e;
    });
    const cluster = await this.#produce;
    await this.#call(`metadata of topic "${topic}"`, () => cluster.addTargetTopic(topic));
    return new ClusterWriter(topic, cluster, this.#retry, this.#call.bind(this));
  }

  #controlCluster(): Promise<Cluster> {
    this.#control ??= this.#call('connecting to the cluster', async () => {
      const cluster = this.#newCluster(this.#config.clientId, this.#config.allowAutoTopicCreation);
      await cluster.connect();
      return cluster;
    }).catch((e: unknown) => {
      this.#control = undefined;
      throw e;
    });
    return this.#control;
  }

  #newCluster(clientId: string, allowAutoTopicCreation: boolean, maxInFlightRequests?: number): Cluster {
    return new Cluster({
      logger: this.#kafka.logger(),
      socketFactory: defaultSocketFactory(),
      brokers: [...this.#config.brokers],
      clientId,
      connectionTimeout: this.#config.connectionTimeoutMs,
      requestTimeout: this.#config.requestTimeoutMs,
      enforceRequestTimeout: true,
      retry: this.#retry,
      allowAutoTopicCreation,
      isolationLevel: this.#isolationLevel,
      ...(maxInFlightRequests === undefined ? {} : { maxInFlightRequests }),
    });
  }
}

type Call = <T>(what: string, body: () => Promise<T>) => Promise<T>;

/**
 * Writes partition 0 of one topic over the opener's produce connection: no fencing beyond the
 * coordinator's terms. Each batch is encoded once (`produce-request.ts`) and sent as a Produce request
 * through kafkajs's broker connection, with kafkajs's retrier and the recovery its producer does
 * between attempts (reconnect, forget a closed broker, refresh metadata), so retries, timeouts and
 * errors behave as the public Producer's did.
 */
class ClusterWriter implements KafkaWriter {
  readonly #topic: string;
  readonly #cluster: Cluster;
  readonly #retrier: ReturnType<typeof createRetry>;
  readonly #call: Call;

  constructor(topic: string, cluster: Cluster, retry: RetryOptions, call: Call) {
    this.#topic = topic;
    this.#cluster = cluster;
    this.#retrier = createRetry(retry);
    this.#call = call;
  }

  send(values: readonly Uint8Array[]): Promise<bigint> {
    const body = encodeProduceRequest({
      topic: this.#topic,
      partition: PARTITION,
      acks: -1,
      timeoutMs: PRODUCE_TIMEOUT_MS,
      timestampMs: Date.now(),
      values,
    });
    // kafkajs's connection takes an object with an encoder's `buf`/`buffer` (it only copies `buffer`).
    const encoded = { buf: body, buffer: body };
    const request: ProtocolRequest = {
      request: {
        apiKey: PRODUCE_API_KEY,
        apiVersion: PRODUCE_API_VERSION,
        apiName: 'Produce',
        expectResponse: () => true,
        encode: () => Promise.resolve(encoded),
      },
      response: produceV3Response,
    };
    return this.#call(`produce to topic "${this.#topic}"`, () =>
      this.#retrier(async () => {
        try {
          return await this.#sendOnce(request);
        } catch (e) {
          await this.#recover(e);
          throw e;
        }
      }),
    );
  }

  async close(): Promise<void> {}

  async #sendOnce(request: ProtocolRequest): Promise<bigint> {
    await this.#cluster.refreshMetadataIfNecessary();
    const partition = this.#cluster.findTopicPartitionMetadata(this.#topic).find((p) => p.partitionId === PARTITION);
    if (partition === undefined || partition.leader < 0) {
      throw new WalError(
        WalErrorCode.UNAVAILABLE,
        `produce to topic "${this.#topic}": partition 0 has no leader in the metadata`,
      );
    }
    const broker: InternalBroker = await this.#cluster.findBroker({ nodeId: String(partition.leader) });
    let response: ProduceV3Response;
    try {
      response = (await broker.connectionPool.send(request)) as ProduceV3Response;
    } catch (e) {
      // As kafkajs's broker does around every request: a closed connection disconnects the broker.
      if (errorName(e) === 'KafkaJSConnectionClosedError') await broker.disconnect();
      throw e;
    }
    const base = response.topics.find((t) => t.topicName === this.#topic)?.partitions;
    return baseOffsetOf(base ?? [], this.#topic);
  }

  /** Between attempts, what kafkajs's producer does (producer/sendMessages.js, kafkajs 2.2.4). */
  async #recover(e: unknown): Promise<void> {
    const name = errorName(e);
    if (name === 'KafkaJSConnectionClosedError') {
      const { host, port } = e as { host: string; port: number };
      this.#cluster.removeBroker({ host, port });
    }
    if (!this.#cluster.isConnected()) {
      await this.#cluster.connect();
      await this.#cluster.refreshMetadata();
      return;
    }
    const retriable = (e as { retriable?: unknown } | null)?.retriable;
    if (retriable === true || name === 'KafkaJSConnectionError' || name === 'KafkaJSConnectionClosedError') {
      await this.#cluster.refreshMetadata();
    }
  }
}

function errorName(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined;
}

/**
 * EXPERIMENTAL (never run against a broker with transactions: the test broker has none). A producer
 * of its own with a transactional id derived from the topic: its InitProducerId at connect bumps the
 * producer epoch of that id, so the broker rejects the previous owner's next produce or commit with
 * INVALID_PRODUCER_EPOCH / PRODUCER_FENCED, which `toWalError` maps to FENCED. Each batch is one
 * transaction; readers read committed records only.
 */
class TransactionalWriter implements KafkaWriter {
  readonly #topic: string;
  readonly #producer: Producer;
  #closing: Promise<void> | undefined;

  private constructor(topic: string, producer: Producer) {
    this.#topic = topic;
    this.#producer = producer;
  }

  static async start(
    kafka: Kafka,
    topic: string,
    transactionalId: string,
    retry: RetryOptions,
    config: KafkaWalConfig,
  ): Promise<TransactionalWriter> {
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      retry,
      allowAutoTopicCreation: config.allowAutoTopicCreation,
      transactionTimeout: Math.max(config.requestTimeoutMs * 2, 10_000),
    });
    try {
      await producer.connect();
    } catch (e) {
      await producer.disconnect().catch(() => {});
      throw toWalError(e, `starting the transactional producer "${transactionalId}" of topic "${topic}"`);
    }
    return new TransactionalWriter(topic, producer);
  }

  async send(values: readonly Uint8Array[]): Promise<bigint> {
    const what = `transactional produce to topic "${this.#topic}"`;
    let transaction;
    try {
      transaction = await this.#producer.transaction();
      const metadata = await transaction.send({
        topic: this.#topic,
        acks: -1,
        messages: values.map((value) => ({ partition: PARTITION, value: asBuffer(value) })),
      });
      await transaction.commit();
      return baseOffsetOf(metadata, this.#topic);
    } catch (e) {
      const error = toWalError(e, what);
      // A fenced producer cannot abort; anything else leaves an open transaction that must end.
      if (transaction !== undefined && !WalError.is(error, WalErrorCode.FENCED) && transaction.isActive()) {
        await transaction.abort().catch(() => {});
      }
      throw error;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#producer.disconnect().catch(() => {});
    return this.#closing;
  }
}

/** Fetches partition 0 of one topic over a connection of its own. */
class ClusterFetcher implements KafkaFetcher {
  readonly #topic: string;
  readonly #cluster: Cluster;
  readonly #options: { readonly fetchMaxBytes: number; readonly isolationLevel: number };
  #connected: Promise<void> | undefined;
  #staleMetadata = false;
  #closing: Promise<void> | undefined;

  constructor(
    topic: string,
    cluster: Cluster,
    options: { readonly fetchMaxBytes: number; readonly isolationLevel: number },
  ) {
    this.#topic = topic;
    this.#cluster = cluster;
    this.#options = options;
  }

  async fetch(offset: bigint, maxWaitMs: number): Promise<FetchResult> {
    const what = `read of topic "${this.#topic}" at offset ${offset}`;
    if (this.#closing !== undefined) throw WalError.closed(what);
    try {
      this.#connected ??= this.#connect();
      await this.#connected;
      if (this.#staleMetadata) {
        this.#staleMetadata = false;
        await this.#cluster.refreshMetadata();
      }
      const leader = this.#cluster.findTopicPartitionMetadata(this.#topic).find((p) => p.partitionId === PARTITION);
      if (leader === undefined || leader.leader < 0) {
        this.#staleMetadata = true;
        throw new WalError(WalErrorCode.UNAVAILABLE, `${what}: partition 0 has no leader in the metadata`);
      }
      const broker = await this.#cluster.findBroker({ nodeId: String(leader.leader) });
      const response = await broker.fetch({
        replicaId: CONSUMER_REPLICA_ID,
        isolationLevel: this.#options.isolationLevel,
        maxWaitTime: maxWaitMs,
        minBytes: 1,
        maxBytes: this.#options.fetchMaxBytes,
        topics: [
          {
            topic: this.#topic,
            partitions: [{ partition: PARTITION, fetchOffset: String(offset), maxBytes: this.#options.fetchMaxBytes }],
          },
        ],
      });
      const partition = response.responses
        .find((r) => r.topicName === this.#topic)
        ?.partitions.find((p) => p.partition === PARTITION);
      if (partition === undefined)
        throw new WalError(WalErrorCode.UNAVAILABLE, `${what}: the broker answered without the partition`);
      const records: KafkaRecord[] = [];
      for (const m of partition.messages) {
        // A fetch returns whole batches: records before the requested offset come along.
        const at = BigInt(m.offset);
        if (at < offset || m.isControlRecord === true) continue;
        records.push({ offset: at, value: m.value });
      }
      return { kind: 'records', records, highWatermark: BigInt(partition.highWatermark) };
    } catch (e) {
      if (isOffsetOutOfRange(e)) return { kind: 'outOfRange' };
      const error = toWalError(e, what);
      // Leadership moved or a connection broke: look the leader up again before the next fetch.
      if (WalError.is(error, WalErrorCode.UNAVAILABLE)) this.#staleMetadata = true;
      if (this.#closing !== undefined) throw WalError.closed(what);
      throw error;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#cluster.disconnect().catch(() => {});
    return this.#closing;
  }

  async #connect(): Promise<void> {
    try {
      await this.#cluster.connect();
      await this.#cluster.addTargetTopic(this.#topic);
    } catch (e) {
      this.#connected = undefined;
      throw e;
    }
  }
}

function isOffsetOutOfRange(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const k = e as { type?: unknown; code?: unknown };
  return k.type === 'OFFSET_OUT_OF_RANGE' || k.code === OFFSET_OUT_OF_RANGE;
}

function baseOffsetOf(metadata: readonly { partition: number; baseOffset?: string }[], topic: string): bigint {
  const base = metadata.find((m) => m.partition === PARTITION)?.baseOffset;
  if (base === undefined || !/^\d+$/.test(base)) {
    throw new WalError(
      WalErrorCode.OUTCOME_UNKNOWN,
      `produce to topic "${topic}": the broker acknowledged without a base offset (${String(base)})`,
    );
  }
  return BigInt(base);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// kafkajs logs through its own logger; its lines go to the injected one (silent by default). kafkajs
// reports expected, handled conditions (an offset out of range, a broker going away) at ERROR, so its
// ERROR becomes warn here and the backend decides what is an error.
function logCreatorFor(logger: StreamsvcLogger): KafkaLogCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const record = { namespace, ...fields };
      switch (level) {
        case KafkaLogLevel.ERROR:
        case KafkaLogLevel.WARN:
          kafkaLogger.warn(record, message);
          break;
        case KafkaLogLevel.INFO:
          kafkaLogger.debug(record, message);
          break;
        default:
          kafkaLogger.trace(record, message);
      }
    };
}
