import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { BackendWal, OpenOptions, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWalConfig } from './config.js';
import { topicOf } from './config.js';
import type { KafkaPort, KafkaWriter } from './kafka-port.js';
import { KafkaWalHandle } from './kafka-wal-handle.js';

// Kafka's own rule for topic names.
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Opens pchannels as partition 0 of their topics, through one {@link KafkaPort}. Made by `kafkaWal.createOpener`. */
export class KafkaWalOpener implements WalOpener {
  readonly #config: KafkaWalConfig;
  readonly #port: KafkaPort;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #close = new CloseOnce();
  readonly #handles = new Set<KafkaWalHandle>();

  constructor(config: KafkaWalConfig, port: KafkaPort, clock: Clock, logger: Logger) {
    this.#config = config;
    this.#port = port;
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * Opens `options.pchannel`: makes sure its topic exists (creating it when allowed) and, for `rw`,
   * starts its writer. Fencing is the coordinator's terms only (`capabilities.fencing: 'term-only'`):
   * this open neither rejects an older term nor stops an older writer — except with the experimental
   * `transactionalFencing`, where the writer's start bumps the producer epoch and the older writer's
   * next append fails with FENCED.
   * @throws {WalError} INVALID_ARGUMENT for an empty pchannel or one that makes an invalid topic name, a
   *   term that is not a bigint ≥ 1 or an unknown mode; UNAVAILABLE when the cluster cannot be reached
   *   (retriable) or the topic does not exist and may not be created (not retriable); CLOSED.
   * Abort: an aborted signal rejects with its reason and opens nothing; an abort during the open rejects
   *   with the reason once the topic lookup returns, and releases what was started.
   */
  async open(options: OpenOptions, call?: CallOptions): Promise<BackendWal> {
    const signal = call?.signal;
    if (signal?.aborted === true) throw abortReason(signal);
    if (this.#close.started) throw WalError.closed('open on the Kafka WAL opener');
    checkOpenOptions(options);
    const { pchannel, term, mode } = options;
    const topic = topicOf(this.#config, pchannel);
    if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
      throw new WalError(
        WalErrorCode.INVALID_ARGUMENT,
        `open: pchannel "${pchannel}" makes topic "${topic}", not a valid Kafka topic name (1-249 of [A-Za-z0-9._-])`,
      );
    }
    await this.#port.ensureTopic(topic);
    let writer: KafkaWriter | undefined;
    if (mode === 'rw') {
      const transactionalId = this.#config.transactionalFencing
        ? `${this.#config.transactionalIdPrefix}${topic}`
        : undefined;
      writer = await this.#port.openWriter(topic, { transactionalId });
    }
    // Checked again: the topic lookup and the writer's start took round trips.
    if (isAborted(signal) || this.#close.started) {
      await writer?.close();
      if (isAborted(signal)) throw abortReason(signal!);
      throw WalError.closed('open on the Kafka WAL opener');
    }
    const logger = this.#logger.child({ pchannel, term: String(term), mode, topic });
    const handle = new KafkaWalHandle({
      port: this.#port,
      pchannel,
      topic,
      term,
      mode,
      writer,
      config: this.#config,
      clock: this.#clock,
      logger,
      onClose: (h) => this.#handles.delete(h),
    });
    this.#handles.add(handle);
    logger.debug('opened');
    return handle;
  }

  /** Closes every handle still open (their scanners end), then the Kafka clients. Idempotent: the same promise. */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.all([...this.#handles].map((h) => h.close()));
      await this.#port.close();
      this.#logger.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function checkOpenOptions(options: OpenOptions): void {
  const invalid = (why: string): WalError => new WalError(WalErrorCode.INVALID_ARGUMENT, `open: ${why}`);
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  if (typeof options.pchannel !== 'string' || options.pchannel === '')
    throw invalid('pchannel must be a non-empty string');
  if (typeof options.term !== 'bigint' || options.term < 1n) {
    throw invalid(`term must be a bigint of at least 1, got ${String(options.term)}`);
  }
  if (options.mode !== 'rw' && options.mode !== 'ro')
    throw invalid(`mode must be "rw" or "ro", got ${JSON.stringify(options.mode)}`);
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
