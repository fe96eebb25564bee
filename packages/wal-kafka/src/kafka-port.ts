/**
 * The narrow view of Kafka this backend needs. Exactly one adapter implements it over kafkajs
 * (`kafkajs-port.ts`, with the `kafkajs-*.ts` files it uses); unit tests implement it with an in-memory
 * fake. Offsets are bigints (Kafka's are int64). Every method rejects with a `WalError` (the adapter
 * translates once, with `toWalError`).
 */
export interface KafkaPort {
  /**
   * Makes sure `topic` exists with a partition 0 and a leader for it, creating it through metadata
   * when the configuration allows auto-creation.
   * @throws {WalError} UNAVAILABLE (not retriable) when the topic does not exist and cannot be created;
   *   UNAVAILABLE (retriable) when the cluster cannot be reached; INVALID_ARGUMENT for an invalid name.
   */
  ensureTopic(topic: string): Promise<void>;
  /** The log-start offset and the high watermark (the next offset) of partition 0 of `topic`. */
  offsets(topic: string): Promise<PartitionOffsets>;
  /**
   * A writer of partition 0 of `topic`: the shared producer, or (transactional fencing) a producer of
   * its own whose start fences every earlier writer with the same transactional id.
   * @throws {WalError} FENCED when a newer writer already holds the transactional id; UNAVAILABLE.
   */
  openWriter(topic: string, options: WriterOptions): Promise<KafkaWriter>;
  /** A reader of partition 0 of `topic` with its own connection, so its long polls delay nobody else. */
  openFetcher(topic: string, options: FetcherOptions): Promise<KafkaFetcher>;
  /** Disconnects every client; writers and fetchers still open fail afterwards. Idempotent. */
  close(): Promise<void>;
}

/** The partition every method of the port means: each topic is written and read as its partition 0 only. */
export const PARTITION = 0;

/** The retained range of a partition: offsets `low .. high-1` can be read. */
export interface PartitionOffsets {
  readonly low: bigint;
  readonly high: bigint;
}

export interface WriterOptions {
  /** Set to write through a transactional producer with this id (see `transactionalFencing`). */
  readonly transactionalId?: string | undefined;
}

/** Appends records to one partition. */
export interface KafkaWriter {
  /**
   * Sends `values` as one produce request (acks=all) and resolves with the offset of the first; the
   * others follow it contiguously.
   * @throws {WalError} FENCED (a newer producer epoch); UNAVAILABLE; INVALID_ARGUMENT (too large).
   */
  send(values: readonly Uint8Array[]): Promise<bigint>;
  /** Releases the writer (a transactional producer disconnects; the shared one stays). Idempotent. */
  close(): Promise<void>;
}

export interface FetcherOptions {
  /** For the client id: `<clientId>-<name>`. */
  readonly name: string;
}

/** One stored record: its offset and value (null for a tombstone, which this backend never writes). */
export interface KafkaRecord {
  readonly offset: bigint;
  readonly value: Uint8Array | null;
}

/** What one fetch returned. */
export type FetchResult =
  | {
      readonly kind: 'records';
      /**
       * Records at or after the requested offset, in offset order (the adapter drops what a batch held
       * before it and transaction control records). Empty when the broker waited `maxWaitMs` for nothing.
       */
      readonly records: readonly KafkaRecord[];
      readonly highWatermark: bigint;
    }
  /** The offset is outside `low .. high` (retention removed it, or it was never written). */
  | { readonly kind: 'outOfRange' };

/** Long-polling reads of one partition. */
export interface KafkaFetcher {
  /**
   * Reads from `offset`, letting the broker hold the request up to `maxWaitMs` while nothing is there.
   * @throws {WalError} UNAVAILABLE; CLOSED after `close()`.
   */
  fetch(offset: bigint, maxWaitMs: number): Promise<FetchResult>;
  /** Disconnects; a fetch in flight rejects or is ignored. Idempotent. */
  close(): Promise<void>;
}
