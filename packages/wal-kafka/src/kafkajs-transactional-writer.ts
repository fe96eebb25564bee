import { Partitioners } from 'kafkajs';
import type { Kafka, Producer, RetryOptions } from 'kafkajs';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWalConfig } from './config.js';
import { toWalError } from './errors.js';
import { PARTITION } from './kafka-port.js';
import type { KafkaWriter } from './kafka-port.js';
import { baseOffsetOf } from './kafkajs-writer.js';

/**
 * EXPERIMENTAL (never run against a broker with transactions: the test broker has none). A producer
 * of its own with a transactional id derived from the topic: its InitProducerId at connect bumps the
 * producer epoch of that id, so the broker rejects the previous owner's next produce or commit with
 * INVALID_PRODUCER_EPOCH / PRODUCER_FENCED, which `toWalError` maps to FENCED. Each batch is one
 * transaction; readers read committed records only.
 */
export class TransactionalWriter implements KafkaWriter {
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
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
