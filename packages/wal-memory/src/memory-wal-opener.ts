import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { BackendWal, OpenOptions, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { MemoryWalConfig } from './config.js';
import { logOf, MemoryLogStore } from './memory-log-store.js';
import { MemoryWalHandle } from './memory-wal-handle.js';

/** Opens pchannels of one {@link MemoryLogStore}. Made by `memoryWal.createOpener`. */
export class MemoryWalOpener implements WalOpener {
  readonly #config: MemoryWalConfig;
  readonly #store: MemoryLogStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #close = new CloseOnce();
  readonly #handles = new Set<MemoryWalHandle>();

  constructor(config: MemoryWalConfig, clock: Clock, logger: Logger) {
    this.#config = config;
    this.#store = config.store ?? new MemoryLogStore();
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * Opens `options.pchannel`. A read-write open takes the log over: every earlier writer of the log
   * (an older term, or the same term opened before) is fenced from then on.
   * @throws {WalError} INVALID_ARGUMENT for an empty pchannel, a term that is not a bigint ≥ 1 or an
   *   unknown mode; FENCED for a read-write open under a term older than the log's newest writer; CLOSED.
   * Abort: an aborted signal rejects with its reason and opens nothing (opening is instantaneous, so
   *   there is no later point to abort at).
   */
  async open(options: OpenOptions, call?: CallOptions): Promise<BackendWal> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed('open on the memory WAL opener');
    checkOpenOptions(options);
    const { pchannel, term, mode } = options;
    const log = logOf(this.#store, pchannel);
    const epoch = mode === 'rw' ? log.claimWriter(term) : undefined;
    const logger = this.#logger.child({ pchannel, term: String(term), mode });
    const handle = new MemoryWalHandle({
      log,
      term,
      mode,
      epoch,
      appendLatencyMs: this.#config.appendLatencyMs,
      maxRecordsPerChannel: this.#config.maxRecordsPerChannel,
      clock: this.#clock,
      logger,
      onClose: (h) => this.#handles.delete(h),
    });
    this.#handles.add(handle);
    logger.debug('opened');
    return handle;
  }

  /** Closes every handle still open (their scanners end), then the opener. Idempotent: the same promise. */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.all([...this.#handles].map((h) => h.close()));
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
