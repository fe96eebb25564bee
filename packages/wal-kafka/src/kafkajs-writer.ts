import type { RetryOptions } from 'kafkajs';
import type Cluster from 'kafkajs/src/cluster/index.js';
import type { InternalBroker, ProtocolRequest } from 'kafkajs/src/cluster/index.js';
import produceV3Response from 'kafkajs/src/protocol/requests/produce/v3/response.js';
import type { ProduceV3Response } from 'kafkajs/src/protocol/requests/produce/v3/response.js';
import createRetry from 'kafkajs/src/retry/index.js';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { PARTITION } from './kafka-port.js';
import type { KafkaWriter } from './kafka-port.js';
import { encodeProduceRequest, PRODUCE_API_KEY, PRODUCE_API_VERSION } from './produce-request.js';

// What kafkajs's producer asks the broker to wait for the replicas (its `send` default), in ms.
const PRODUCE_TIMEOUT_MS = 30_000;

/** How the port runs a call: CLOSED once the port is closing, any failure translated by `toWalError`. */
export type Call = <T>(what: string, body: () => Promise<T>) => Promise<T>;

/**
 * Writes partition 0 of one topic over the opener's produce connection: no fencing beyond the
 * coordinator's terms. Each batch is encoded once (`produce-request.ts`) and sent as a Produce request
 * through kafkajs's broker connection, with kafkajs's retrier and the recovery its producer does
 * between attempts (reconnect, forget a closed broker, refresh metadata), so retries, timeouts and
 * errors behave as the public Producer's did.
 */
export class ClusterWriter implements KafkaWriter {
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
/** The offset the broker gave the first record of a batch; OUTCOME_UNKNOWN when its answer has none. */
export function baseOffsetOf(metadata: readonly { partition: number; baseOffset?: string }[], topic: string): bigint {
  const base = metadata.find((m) => m.partition === PARTITION)?.baseOffset;
  if (base === undefined || !/^\d+$/.test(base)) {
    throw new WalError(
      WalErrorCode.OUTCOME_UNKNOWN,
      `produce to topic "${topic}": the broker acknowledged without a base offset (${String(base)})`,
    );
  }
  return BigInt(base);
}
