import type { Logger as StreamsvcLogger } from '@streamsvc/common';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { logCreator as KafkaLogCreator, RetryOptions } from 'kafkajs';
import Cluster from 'kafkajs/src/cluster/index.js';
import defaultSocketFactory from 'kafkajs/src/network/socketFactory.js';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWalConfig } from './config.js';
import { toWalError } from './errors.js';
import { PARTITION } from './kafka-port.js';
import type {
  FetcherOptions,
  KafkaFetcher,
  KafkaPort,
  KafkaWriter,
  PartitionOffsets,
  WriterOptions,
} from './kafka-port.js';
import { ClusterFetcher } from './kafkajs-fetcher.js';
import { TransactionalWriter } from './kafkajs-transactional-writer.js';
import { ClusterWriter } from './kafkajs-writer.js';

// The adapter files (`kafkajs-*.ts`) are the only ones that import kafkajs; this one builds the clients and
// hands out writers and fetchers. Both directions use kafkajs's internal Cluster/Broker (connections,
// metadata, retries, errors). Reads (`kafkajs-fetcher.ts`): `broker.fetch` at an explicit offset, since the
// public Consumer must join a consumer group before it can seek, which costs a rebalance per reader (3 s on
// the librdkafka mock, more on a real broker) and offers no "assign one partition, no group" mode. Writes
// (term-only fencing, `kafkajs-writer.ts`): a Produce request whose body `produce-request.ts` encodes, since
// the public Producer's encoder cost more CPU per record than the rest of an append (see there). The
// transactional writer (`kafkajs-transactional-writer.ts`) keeps the public Producer: it needs its
// transaction protocol. See the README.

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

/**
 * Builds the kafkajs adapter of {@link KafkaPort}: one produce client and one metadata/offsets client
 * per opener, one connection per reader. Connects lazily, on the first call that needs the cluster.
 * Reached through `createKafkajsPort` (kafkajs-port-loader.ts), which loads this file on first use.
 */
export function newKafkajsPort(config: KafkaWalConfig, logger: StreamsvcLogger): KafkaPort {
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
