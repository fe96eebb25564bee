import type Cluster from 'kafkajs/src/cluster/index.js';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { toWalError } from './errors.js';
import { PARTITION } from './kafka-port.js';
import type { FetchResult, KafkaFetcher, KafkaRecord } from './kafka-port.js';

// Kafka's "no replica": the fetch comes from a consumer, not a follower broker.
const CONSUMER_REPLICA_ID = -1;
const OFFSET_OUT_OF_RANGE = 1;

/** Fetches partition 0 of one topic over a connection of its own. */
export class ClusterFetcher implements KafkaFetcher {
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
