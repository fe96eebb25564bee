import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { MessageId, MutableMessage } from '@streamsvc/message';
import type { AccessMode, BackendScanner, BackendWal, DeliverPolicy, ReadOptions } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { AppendBatcher } from './append-batcher.js';
import type { KafkaWalConfig } from './config.js';
import type { KafkaPort, KafkaWriter, PartitionOffsets } from './kafka-port.js';
import { KafkaScanner } from './kafka-scanner.js';
import { beforeProduce, latestLookup, topicKey } from './latest-barrier.js';
import { idOf, offsetOf } from './message-ids.js';
import { encodeRecord } from './record-codec.js';

/** What a handle needs from its opener. */
export interface HandleInit {
  readonly port: KafkaPort;
  readonly pchannel: string;
  readonly topic: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  /** The writer of a read-write handle; undefined for read-only ones. */
  readonly writer: KafkaWriter | undefined;
  readonly config: KafkaWalConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onClose: (handle: KafkaWalHandle) => void;
}

/**
 * A handle on one pchannel — partition 0 of its topic — read-write or read-only. One class for both
 * modes, so a caller who casts a read-only handle gets READ_ONLY rejections instead of a missing method.
 */
export class KafkaWalHandle implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  readonly #init: HandleInit;
  readonly #batcher: AppendBatcher | undefined;
  readonly #close = new CloseOnce();
  readonly #scanners = new Set<KafkaScanner>();
  readonly #topicKey: string;
  #readers = 0;

  constructor(init: HandleInit) {
    this.#init = init;
    this.pchannel = init.pchannel;
    this.term = init.term;
    this.mode = init.mode;
    this.#topicKey = topicKey(init.config.brokers, init.topic);
    const writer = init.writer;
    const key = this.#topicKey;
    this.#batcher =
      writer === undefined
        ? undefined
        : new AppendBatcher(
            {
              // A `latest` read of this topic opened in this process orders before this request.
              send: async (values) => {
                await beforeProduce(key);
                return writer.send(values);
              },
              close: () => writer.close(),
            },
            init.config,
            init.clock,
            init.pchannel,
          );
  }

  /**
   * Appends `message` (stamped with `_tt` and a last-confirmed id) as one record and resolves with its
   * offset once the brokers acknowledged it (acks=all). The message is encoded at the call, so later
   * changes to the object do not reach the log. Concurrent appends share produce requests.
   * @throws {WalError} READ_ONLY; CLOSED; INVALID_ARGUMENT for a message without `_tt`/last-confirmed id
   *   or larger than `maxMessageBytes`; UNAVAILABLE (retriable) when the brokers cannot take it; FENCED
   *   only with `transactionalFencing`, when a newer owner bumped the producer epoch (then for good).
   * Abort: before the record is sent (also while it waits for a batch), rejects with the abort reason
   *   and nothing is written; after, with OUTCOME_UNKNOWN — the record may or may not be stored.
   */
  async append(message: MutableMessage, call?: CallOptions): Promise<MessageId> {
    const batcher = this.#checkWritable('append', call);
    const value = encodeRecord(message, this.pchannel, this.#init.config.maxMessageBytes);
    return idOf(await batcher.append(value, call?.signal));
  }

  /**
   * Checks `id` and does nothing else: the librdkafka test broker has no DeleteRecords, and retention
   * (`retention.ms` / `retention.bytes` of the topic) is how Kafka frees a partition
   * (`capabilities.truncate` is false).
   * @throws {WalError} READ_ONLY; CLOSED; FENCED (transactional fencing, after a takeover);
   *   INVALID_MESSAGE_ID for an id of another backend or one this partition never issued.
   * Abort: before the call, rejects with the abort reason.
   */
  async truncate(id: MessageId, call?: CallOptions): Promise<void> {
    this.#checkWritable('truncate', call);
    const what = `truncate on pchannel "${this.pchannel}"`;
    const offset = offsetOf(id, what);
    const { high } = await this.#init.port.offsets(this.#init.topic);
    if (offset >= high) throw neverIssued(what, id, high);
    this.#init.logger.debug({ offset: String(offset) }, 'truncate accepted (Kafka frees by retention)');
  }

  /**
   * Starts a read from `options.policy`; the scanner follows the tail until closed. `all` starts at the
   * first retained record, `latest` at the high watermark when the call runs; an id before the first
   * retained record starts there.
   * @throws {WalError} CLOSED; INVALID_MESSAGE_ID for an id of another backend or one this partition
   *   never issued; INVALID_ARGUMENT for an unknown policy; UNAVAILABLE when the offsets cannot be read.
   * Abort: the signal bounds this call only (an aborted signal rejects with its reason and starts
   *   nothing); close the scanner to stop reading.
   */
  async read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    const what = `read on pchannel "${this.pchannel}"`;
    if (this.#close.started) throw WalError.closed(what);
    const policy = checkPolicy(options?.policy, what);
    // The id is checked before asking the broker: a foreign id is wrong whether or not Kafka answers.
    const requested = policy.kind === 'startFrom' || policy.kind === 'startAfter' ? offsetOf(policy.id, what) : 0n;
    const lookup = (): Promise<PartitionOffsets> => this.#init.port.offsets(this.#init.topic);
    const { low, high } = policy.kind === 'latest' ? await latestLookup(this.#topicKey, lookup) : await lookup();
    const start = startOffset(policy, requested, low, high, what);
    // Checked again: the offsets lookup took a round trip.
    if (isAborted(call?.signal)) throw abortReason(call!.signal!);
    if (this.#close.started) throw WalError.closed(what);
    const name = `${options.name ?? 'reader'}-${++this.#readers}`;
    const fetcher = await this.#init.port.openFetcher(this.#init.topic, { name });
    const scanner = new KafkaScanner({
      port: this.#init.port,
      fetcher,
      topic: this.#init.topic,
      start,
      fetchMaxWaitMs: this.#init.config.fetchMaxWaitMs,
      readRetryTimeoutMs: this.#init.config.readRetryTimeoutMs,
      clock: this.#init.clock,
      logger: this.#init.logger.child({ reader: name }),
      onClose: (s) => this.#scanners.delete(s),
    });
    this.#scanners.add(scanner);
    // The handle may have closed while the fetcher connected: the scanner must not outlive it.
    if (this.#close.started) await scanner.close();
    return scanner;
  }

  /**
   * Closes the handle: new calls reject with CLOSED, appends already accepted finish (they may be on
   * the wire), then the handle's scanners end and its writer is released. Idempotent: the same promise.
   */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await this.#batcher?.drain();
      await Promise.all([...this.#scanners].map((s) => s.close()));
      await this.#init.writer?.close();
      this.#init.onClose(this);
      this.#init.logger.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkWritable(op: string, call: CallOptions | undefined): AppendBatcher {
    const what = `${op} on pchannel "${this.pchannel}"`;
    if (this.mode !== 'rw' || this.#batcher === undefined) throw WalError.readOnly(op, this.pchannel);
    if (this.#close.started) throw WalError.closed(what);
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    const failure = this.#batcher.failure;
    if (failure !== undefined) throw failure;
    return this.#batcher;
  }
}

function checkPolicy(policy: DeliverPolicy | undefined, what: string): DeliverPolicy {
  switch (policy?.kind) {
    case 'all':
    case 'latest':
    case 'startFrom':
    case 'startAfter':
      return policy;
    case undefined:
      throw new WalError(WalErrorCode.INVALID_ARGUMENT, `${what} needs a deliver policy`);
    default:
      throw new WalError(
        WalErrorCode.INVALID_ARGUMENT,
        `${what}: unknown deliver policy ${JSON.stringify((policy as { kind: unknown }).kind)}`,
      );
  }
}

function startOffset(policy: DeliverPolicy, offset: bigint, low: bigint, high: bigint, what: string): bigint {
  const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
  switch (policy.kind) {
    case 'all':
      return low;
    case 'latest':
      return high;
    case 'startFrom': {
      if (offset >= high) throw neverIssued(`${what} startFrom`, policy.id, high);
      return max(offset, low);
    }
    case 'startAfter': {
      if (offset >= high) throw neverIssued(`${what} startAfter`, policy.id, high);
      return max(offset + 1n, low);
    }
  }
}

function neverIssued(what: string, id: MessageId, high: bigint): WalError {
  return new WalError(
    WalErrorCode.INVALID_MESSAGE_ID,
    `${what}: id ${id.toString()} was never issued by this partition (next offset ${high})`,
  );
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
