import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Logger } from '@streamsvc/common';
import type { BackendWal, OpenOptions, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { topicOf } from './config.js';
import type { PulsarWalConfig } from './config.js';
import type { PulsarPort } from './pulsar-port.js';
import { PulsarWalHandle } from './pulsar-wal-handle.js';
import { claimTopic } from './topic-claim.js';

// Pulsar topic names allow more, but pchannels are plain names; "/" or ":" would change the topic path.
const PCHANNEL = /^[A-Za-z0-9_.=-]{1,200}$/;

/** Opens pchannels as topics of one Pulsar cluster (or one {@link PulsarPort}). Made by `pulsarWal.createOpener`. */
export class PulsarWalOpener implements WalOpener {
  readonly #config: PulsarWalConfig;
  readonly #port: PulsarPort;
  readonly #ownsPort: boolean;
  readonly #logger: Logger;
  readonly #close = new CloseOnce();
  readonly #handles = new Set<PulsarWalHandle>();

  constructor(config: PulsarWalConfig, port: PulsarPort, ownsPort: boolean, logger: Logger) {
    this.#config = config;
    this.#port = port;
    this.#ownsPort = ownsPort;
    this.#logger = logger;
  }

  /**
   * Opens `options.pchannel` (topic `persistent://<tenant>/<namespace>/<topicPrefix><pchannel>`). A
   * read-write open takes the topic over (see `claimTopic`): it checks that no newer term wrote the
   * topic, creates an ExclusiveWithFencing producer — which fences the previous owner — and publishes a
   * term marker; it resolves when the handle can append.
   * @throws {WalError} INVALID_ARGUMENT for a pchannel that is not a plain name (letters, digits, `_.=-`),
   *   a term that is not a bigint ≥ 1 or an unknown mode; FENCED when a newer term owns the topic;
   *   UNAVAILABLE; CLOSED.
   * Abort: an aborted signal rejects with its reason and opens nothing; an abort during a read-write open
   *   rejects with the reason, and the previous owner may already have been fenced.
   */
  async open(options: OpenOptions, call?: CallOptions): Promise<BackendWal> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed('open on the pulsar WAL opener');
    checkOpenOptions(options);
    const { pchannel, term, mode } = options;
    const topic = topicOf(this.#config, pchannel);
    const logger = this.#logger.child({ pchannel, term: String(term), mode });
    const producer =
      mode === 'rw'
        ? await claimTopic(this.#port, topic, term, `streamsvc-${pchannel}-t${term}-${randomSuffix()}`, call)
        : undefined;
    if (this.#close.started) {
      await producer?.close();
      throw WalError.closed('open on the pulsar WAL opener');
    }
    const handle = new PulsarWalHandle({
      port: this.#port,
      pchannel,
      topic,
      term,
      mode,
      producer,
      logger,
      onClose: (h) => this.#handles.delete(h),
    });
    this.#handles.add(handle);
    logger.debug({ topic }, 'opened');
    return handle;
  }

  /** Closes every handle still open, then the client (when the opener created it). Idempotent. */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.all([...this.#handles].map((h) => h.close()));
      if (this.#ownsPort) await this.#port.close();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function checkOpenOptions(options: OpenOptions): void {
  const invalid = (why: string): WalError => new WalError(WalErrorCode.INVALID_ARGUMENT, `open: ${why}`);
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  if (typeof options.pchannel !== 'string' || !PCHANNEL.test(options.pchannel)) {
    throw invalid(`pchannel must be 1..200 letters, digits or "_.=-", got ${JSON.stringify(options.pchannel)}`);
  }
  if (typeof options.term !== 'bigint' || options.term < 1n) {
    throw invalid(`term must be a bigint of at least 1, got ${String(options.term)}`);
  }
  if (options.mode !== 'rw' && options.mode !== 'ro') {
    throw invalid(`mode must be "rw" or "ro", got ${JSON.stringify(options.mode)}`);
  }
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 0xffffffff).toString(36);
}
