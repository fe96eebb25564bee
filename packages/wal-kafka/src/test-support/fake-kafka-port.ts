import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type {
  FetcherOptions,
  FetchResult,
  KafkaFetcher,
  KafkaPort,
  KafkaWriter,
  PartitionOffsets,
  WriterOptions,
} from '../kafka-port.js';

interface FakePartition {
  low: bigint;
  readonly records: Uint8Array[];
  readonly waiters: Set<() => void>;
}

/**
 * An in-memory Kafka for unit tests: partitions as arrays, long polls woken by appends, producer
 * epochs per transactional id (a newer writer fences the older one, as a real broker would). Several
 * ports built on one `FakeKafka` see the same topics, like openers on one cluster.
 */
export class FakeKafka {
  readonly topics = new Map<string, FakePartition>();
  readonly epochs = new Map<string, number>();
  autoCreate = true;
  /** Set to make every call fail with this error until cleared (a broker outage). */
  failure: Error | undefined;
  /** While set, produce requests wait for it (a slow broker): they are on the wire but unanswered. */
  produceGate: Promise<void> | undefined;
  /** Produce requests seen, with their record counts. */
  readonly produced: number[] = [];

  port(): KafkaPort {
    return new FakeKafkaPort(this);
  }

  partition(topic: string): FakePartition {
    const p = this.topics.get(topic);
    if (p === undefined) throw new WalError(WalErrorCode.UNAVAILABLE, `unknown topic ${topic}`, { retriable: false });
    return p;
  }

  /** Drops the records before `offset`, as retention would. */
  dropBefore(topic: string, offset: bigint): void {
    const p = this.partition(topic);
    if (offset > p.low) p.low = offset;
  }

  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

class FakeKafkaPort implements KafkaPort {
  readonly #kafka: FakeKafka;
  #closed = false;

  constructor(kafka: FakeKafka) {
    this.#kafka = kafka;
  }

  async ensureTopic(topic: string): Promise<void> {
    this.#check();
    if (this.#kafka.topics.has(topic)) return;
    if (!this.#kafka.autoCreate) {
      throw new WalError(WalErrorCode.UNAVAILABLE, `topic "${topic}" does not exist`, { retriable: false });
    }
    this.#kafka.topics.set(topic, { low: 0n, records: [], waiters: new Set() });
  }

  async offsets(topic: string): Promise<PartitionOffsets> {
    this.#check();
    const p = this.#kafka.partition(topic);
    return { low: p.low, high: BigInt(p.records.length) };
  }

  async openWriter(topic: string, options: WriterOptions): Promise<KafkaWriter> {
    this.#check();
    const kafka = this.#kafka;
    const id = options.transactionalId;
    const epoch = id === undefined ? 0 : (kafka.epochs.get(id) ?? 0) + 1;
    if (id !== undefined) kafka.epochs.set(id, epoch);
    return {
      send: async (values) => {
        this.#check();
        await kafka.produceGate;
        if (id !== undefined && kafka.epochs.get(id) !== epoch) {
          throw new WalError(WalErrorCode.FENCED, `producer epoch ${epoch} of "${id}" is stale`);
        }
        const p = kafka.partition(topic);
        const base = BigInt(p.records.length);
        // Copies, as a broker stores bytes and not the caller's buffers.
        for (const v of values) p.records.push(Uint8Array.from(v));
        kafka.produced.push(values.length);
        for (const wake of [...p.waiters]) wake();
        return base;
      },
      close: async () => {},
    };
  }

  async openFetcher(topic: string, _options: FetcherOptions): Promise<KafkaFetcher> {
    this.#check();
    const kafka = this.#kafka;
    let closed = false;
    let wakeOnClose: (() => void) | undefined;
    return {
      fetch: async (offset, maxWaitMs): Promise<FetchResult> => {
        if (closed) throw WalError.closed('fake fetch');
        this.#check();
        const p = kafka.partition(topic);
        if (offset < p.low || offset > BigInt(p.records.length)) return { kind: 'outOfRange' };
        if (offset === BigInt(p.records.length)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              p.waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, maxWaitMs);
            p.waiters.add(done);
            wakeOnClose = done;
          });
          if (closed) throw WalError.closed('fake fetch');
        }
        const records = p.records
          .slice(Number(offset), Number(offset) + 100)
          .map((value, i) => ({ offset: offset + BigInt(i), value }));
        return { kind: 'records', records, highWatermark: BigInt(p.records.length) };
      },
      close: async () => {
        closed = true;
        wakeOnClose?.();
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw WalError.closed('fake Kafka port');
    this.#kafka.check();
  }
}
