import { CloseOnce, noopLogger, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { isSelfControlledMessageType, StreamingError, toPChannel } from '@streamsvc/message';
import type { MessageId, MutableMessage } from '@streamsvc/message';

import { validateFilters } from '../scanner/deliver-filter.js';
import type { DeliverFilter } from '../scanner/deliver-filter.js';
import { WalScanner } from '../scanner/wal-scanner.js';
import type { BackendWal, DeliverPolicy, WalOpener } from '../spi/backend.js';
import type { WalError } from '../spi/wal-error.js';
import { AckManager } from '../timetick/ack-manager.js';
import type { TimestampSource } from '../timetick/ack-manager.js';
import { TxnManager } from '../txn/txn-manager.js';
import { WriteAheadBuffer } from '../wab/write-ahead-buffer.js';
import { backendAppend, toStreamingError } from './backend-append.js';
import { LockInterceptor, RedoInterceptor, VChannelInterceptor } from './builtin-interceptors.js';
import { chainInterceptors } from './interceptor.js';
import type { AppendInterceptor, AppendNext, AppendResult } from './interceptor.js';
import type { RecoveryCheckpointStore } from './recovery-checkpoint.js';
import { RecoveryCheckpointer } from './recovery-checkpointer.js';
import { TimeTickInterceptor } from './timetick-interceptor.js';
import { TimeTickSync } from './timetick-sync.js';
import type { ResolvedWalConfig, WalConfig } from './wal-config.js';
import { parseConfig, recover, writeFirstTick } from './wal-open.js';

/** The node's time-stamp allocator as the WAL uses it (a `BatchTsoAllocator`). */
export interface WalTso extends TimestampSource {
  /** Drops the current block so the next allocation is above everything issued before. */
  sync(): void;
}

export interface OpenWalOptions {
  readonly opener: WalOpener;
  readonly pchannel: string;
  /** The coordinator's term; opening under it fences every older writer (where the backend can). */
  readonly term: bigint;
  readonly tso: WalTso;
  readonly config?: WalConfig;
  /** Interceptors run after the timetick step (the shard/segment interceptor). */
  readonly interceptors?: readonly AppendInterceptor[];
  /**
   * Recovery checkpoints: replay starts at the last one instead of the log's start, and the state this
   * open recovers is saved as the next one (at the term's first tick). Without it the whole log is replayed.
   */
  readonly checkpoints?: RecoveryCheckpointStore;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

export interface ReadWalOptions {
  readonly policy: DeliverPolicy;
  /** Deliver only this vchannel (plus pchannel-wide time ticks). */
  readonly vchannel?: string;
  readonly filters?: readonly DeliverFilter[];
  /** For logs. */
  readonly name?: string;
}

/**
 * A WAL on one pchannel, owned by this process under one term: appends from any number of concurrent
 * callers, each stamped with a time tick; readers get messages in strict time-tick order with no gaps.
 *
 * Open with {@link Wal.open} (read-write: fences older owners, writes the term's first tick, replays
 * the log to rebuild vchannels and open txns) or {@link Wal.openReadOnly}.
 */
export class Wal implements AsyncDisposable {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: 'rw' | 'ro';
  readonly #backend: BackendWal;
  readonly #config: ResolvedWalConfig;
  readonly #log: Logger;
  readonly #append: AppendNext | undefined;
  readonly #acks: AckManager | undefined;
  readonly #wab: WriteAheadBuffer | undefined;
  readonly #sync: TimeTickSync | undefined;
  readonly #checkpointer: RecoveryCheckpointer | undefined;
  readonly #interceptors: readonly AppendInterceptor[];
  readonly #scanners = new Set<WalScanner>();
  readonly #closer = new CloseOnce();
  #inFlight = 0;
  readonly #knownVChannels = new Set<string>();
  #drained: (() => void) | undefined;
  #fenced: WalError | undefined;
  #closing = false;

  private constructor(parts: {
    pchannel: string;
    term: bigint;
    mode: 'rw' | 'ro';
    backend: BackendWal;
    config: ResolvedWalConfig;
    log: Logger;
    append?: AppendNext;
    acks?: AckManager;
    wab?: WriteAheadBuffer;
    sync?: TimeTickSync;
    checkpointer?: RecoveryCheckpointer | undefined;
    interceptors?: readonly AppendInterceptor[];
  }) {
    this.pchannel = parts.pchannel;
    this.term = parts.term;
    this.mode = parts.mode;
    this.#backend = parts.backend;
    this.#config = parts.config;
    this.#log = parts.log;
    this.#append = parts.append;
    this.#acks = parts.acks;
    this.#wab = parts.wab;
    this.#sync = parts.sync;
    this.#checkpointer = parts.checkpointer;
    this.#interceptors = parts.interceptors ?? [];
  }

  /**
   * Opens the pchannel for writing under `term`: opens the backend (fencing older writers), writes a
   * persisted first time tick above everything earlier terms wrote, replays the log up to it to rebuild
   * vchannels and open transactions, and starts the time-tick sync. Resolves when appends are accepted.
   * @throws {StreamingError} CHANNEL_FENCED when a newer term already owns the pchannel; INVALID_ARGUMENT
   *   for a bad config; INNER when the backend fails.
   * Abort: the open stops and everything opened so far is closed.
   */
  static async open(options: OpenWalOptions): Promise<Wal> {
    const config = parseConfig(options.config);
    const clock = options.clock ?? systemClock;
    const log = (options.logger ?? noopLogger).child({
      component: 'wal',
      pchannel: options.pchannel,
      term: String(options.term),
    });
    const stopping = { value: false };
    const fence = { error: undefined as WalError | undefined };
    // Until the Wal object exists, a fence is remembered; afterwards it goes straight to the Wal.
    const hooks = {
      onFenced: (e: WalError): void => {
        fence.error = e;
      },
      stopping: (): boolean => stopping.value,
    };
    const errorOptions = { onFenced: (e: WalError) => hooks.onFenced(e), stopping: () => hooks.stopping() };
    let backend: BackendWal;
    try {
      backend = await options.opener.open(
        { pchannel: options.pchannel, term: options.term, mode: 'rw' },
        { signal: options.signal },
      );
    } catch (e) {
      throw toStreamingError(e, errorOptions);
    }
    try {
      // The first tick: above every tick of earlier owners (fresh TSO block), written straight to the
      // backend, its own last-confirmed id. It seeds the buffer and bounds the recovery replay.
      options.tso.sync();
      const first = await writeFirstTick(backend, options.tso, options.term, config, clock, log, options.signal);
      const recovered = await recover(backend, first, options, config.txnKeepaliveMs, log);
      log.info(
        {
          replayed: recovered.replayed,
          fromCheckpoint: recovered.fromCheckpoint,
          vchannels: recovered.vchannels.all().length,
          openTxns: recovered.openTxns.length,
        },
        'wal recovered',
      );
      const txns = new TxnManager(config.txnKeepaliveMs);
      for (const s of recovered.openTxns) txns.restore(s);
      // Open txns hold the last-confirmed id at their BeginTxn until they finish.
      const pinned = recovered.openTxns.map((s) => ({ id: s.beginId!, endTt: 0n, txn: s }));
      const initialLc = pinned.reduce<MessageId>((min, p) => (p.id.compare(min) < 0 ? p.id : min), first.id);
      const acks = new AckManager(options.tso, first.timeTick, initialLc, [
        ...pinned,
        { id: first.id, endTt: 0n, txn: undefined },
      ]);
      const wab = new WriteAheadBuffer(first, { ...config.writeAheadBuffer, clock });
      const sync = new TimeTickSync({
        acks,
        txns,
        wab,
        term: options.term,
        intervalMs: config.timeTickIntervalMs,
        persistIntervalMs: config.timeTickPersistIntervalMs,
        clock,
        logger: log,
      });
      const interceptors = [
        new RedoInterceptor(options.term),
        new LockInterceptor(txns),
        new VChannelInterceptor(recovered.vchannels),
        new TimeTickInterceptor(acks, txns, () => sync.acked()),
        ...(options.interceptors ?? []),
      ];
      const append = chainInterceptors(
        interceptors,
        backendAppend({
          backend,
          clock,
          logger: log,
          retryInitialMs: config.appendRetryInitialMs,
          retryMaxMs: config.appendRetryMaxMs,
          ...errorOptions,
        }),
      );
      const checkpointer =
        options.checkpoints && recovered.checkpoint
          ? new RecoveryCheckpointer({
              backend,
              store: options.checkpoints,
              pchannel: options.pchannel,
              term: options.term,
              initial: recovered.checkpoint.checkpoint,
              initialSave: recovered.checkpoint.saved,
              lastConfirmed: () => acks.lastConfirmedId,
              intervalMs: config.recoveryCheckpointIntervalMs,
              defaultTxnKeepaliveMs: config.txnKeepaliveMs,
              clock,
              logger: log,
            })
          : undefined;
      const wal = new Wal({
        pchannel: options.pchannel,
        term: options.term,
        mode: 'rw',
        backend,
        config,
        log,
        append,
        acks,
        wab,
        sync,
        checkpointer,
        interceptors,
      });
      hooks.onFenced = (e) => wal.#onFenced(e);
      hooks.stopping = () => wal.#closing;
      if (fence.error) wal.#onFenced(fence.error);
      sync.start((_tick, ctx) => append(ctx));
      if (config.recoveryCheckpointIntervalMs > 0) checkpointer?.start();
      log.info({ firstTt: String(first.timeTick) }, 'wal open for writing');
      return wal;
    } catch (e) {
      await backend.close().catch(() => undefined);
      throw toStreamingError(e, errorOptions);
    }
  }

  /**
   * Opens the pchannel for reading only (a replica reading while another node writes).
   * @throws {StreamingError} INNER when the backend fails.
   */
  static async openReadOnly(options: Omit<OpenWalOptions, 'tso' | 'interceptors'>): Promise<Wal> {
    const config = parseConfig(options.config);
    const log = (options.logger ?? noopLogger).child({
      component: 'wal',
      pchannel: options.pchannel,
      term: String(options.term),
      mode: 'ro',
    });
    const backend = await options.opener
      .open({ pchannel: options.pchannel, term: options.term, mode: 'ro' }, { signal: options.signal })
      .catch((e: unknown) => Promise.reject(toStreamingError(e, { onFenced: () => undefined, stopping: () => false })));
    return new Wal({
      pchannel: options.pchannel,
      term: options.term,
      mode: 'ro',
      backend: backend as BackendWal,
      config,
      log,
    });
  }

  /** True until the WAL is fenced or closing. */
  get available(): boolean {
    return !this.#fenced && !this.#closing;
  }

  /** The last time tick published to readers: everything at or below it is readable (MVCC safe time). */
  get latestTimeTick(): bigint | undefined {
    return this.#wab?.lastTick.timeTick;
  }

  /** The current last-confirmed id (where a reader must start to see every later message). */
  get lastConfirmedId(): MessageId | undefined {
    return this.#acks?.lastConfirmedId;
  }

  /**
   * Appends a message. The caller's message is not modified (a stamped clone is stored).
   * @throws {StreamingError} INVALID_ARGUMENT (size, self-controlled type, vchannel of another pchannel,
   *   malformed message); VCHANNEL_NOT_EXIST / VCHANNEL_DROPPED / PARTITION_NOT_EXIST (invariants);
   *   TRANSACTION_EXPIRED / INVALID_TRANSACTION_STATE (txns); CHANNEL_FENCED; ON_SHUTDOWN; INNER.
   * Abort: before the backend write, rejects with the abort reason and nothing is written; after it,
   *   the outcome is unknown (OUTCOME_UNKNOWN or the abort reason).
   */
  async append(message: MutableMessage, options: CallOptions = {}): Promise<AppendResult> {
    if (!this.#append || this.mode === 'ro')
      throw new StreamingError('INVALID_ARGUMENT', `pchannel ${this.pchannel} is open read-only here`);
    if (this.#fenced)
      throw new StreamingError(
        'CHANNEL_FENCED',
        `pchannel ${this.pchannel} term ${this.term} was fenced by a newer owner`,
      );
    if (this.#closing) throw new StreamingError('ON_SHUTDOWN', `the WAL of ${this.pchannel} is closing`);
    this.#validate(message);
    this.#inFlight++;
    const tracked = this.#checkpointer?.track(message);
    try {
      // The redo step stamps a copy per attempt; `message` itself stays untouched.
      const result = await this.#append({ message, signal: options.signal });
      tracked?.(result.id);
      return result;
    } catch (e) {
      tracked?.(undefined);
      // An abort surfaces as the signal's own reason, whatever it is (see the TSDoc above).
      if (options.signal?.aborted && e === options.signal.reason) throw e;
      throw toStreamingError(e, { onFenced: (f) => this.#onFenced(f), stopping: () => this.#closing });
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  /**
   * Reads the WAL in time-tick order. On a read-write WAL tail reads come from the write-ahead buffer.
   * @throws {StreamingError} INVALID_ARGUMENT for bad filters; ON_SHUTDOWN when closing.
   */
  read(options: ReadWalOptions): WalScanner {
    if (this.#closing) throw new StreamingError('ON_SHUTDOWN', `the WAL of ${this.pchannel} is closing`);
    validateFilters(options.filters ?? []);
    const scanner: WalScanner = new WalScanner({
      backend: this.#backend,
      wab: this.#wab,
      policy: options.policy,
      vchannel: options.vchannel,
      filters: options.filters,
      name: options.name,
      latestAfterTt: this.#acks?.lastAllocatedTt,
      logger: this.#log,
      onClose: () => this.#scanners.delete(scanner),
    });
    this.#scanners.add(scanner);
    // A catch-up reader switches to the buffer on a persisted tick: have one written soon.
    this.#sync?.request(true);
    return scanner;
  }

  /**
   * Closes gracefully: refuses new appends (ON_SHUTDOWN), waits up to `gracefulCloseTimeoutMs` for
   * in-flight ones, publishes a last tick, then closes readers, interceptors and the backend.
   * Idempotent; the same promise twice.
   */
  close(): Promise<void> {
    // Refuse new appends and readers at once, not a microtask later when the close routine starts.
    this.#closing = true;
    return this.#closer.run(async () => {
      if (this.#inFlight > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
          setTimeout(resolve, this.#config.gracefulCloseTimeoutMs).unref();
        });
      }
      if (this.#sync) {
        await this.#sync.stop({ finalTick: !this.#fenced, finalTickTimeoutMs: this.#config.gracefulCloseTimeoutMs });
      }
      // After the last tick, so the next owner's replay starts at (almost) the end of this term.
      await this.#checkpointer?.stop({ final: !this.#fenced, timeoutMs: this.#config.gracefulCloseTimeoutMs });
      this.#wab?.close();
      await Promise.allSettled([...this.#scanners].map((s) => s.close()));
      for (const i of [...this.#interceptors].reverse())
        await i.close?.().catch((e: unknown) => this.#log.warn({ err: e }, 'interceptor close failed'));
      await this.#backend.close();
      this.#log.info({ fenced: Boolean(this.#fenced) }, 'wal closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #validate(message: MutableMessage): void {
    if (isSelfControlledMessageType(message.type)) {
      throw new StreamingError(
        'INVALID_ARGUMENT',
        `${message.typeName} messages are written by the WAL itself, not by clients`,
      );
    }
    const vchannel = message.vchannel;
    if (vchannel === undefined)
      throw new StreamingError('INVALID_ARGUMENT', `${message.typeName} message has no vchannel`);
    if (!this.#knownVChannels.has(vchannel)) this.#checkVChannel(vchannel);
    const size = message.estimateSize();
    if (size > this.#config.maxMessageBytes) {
      throw new StreamingError(
        'INVALID_ARGUMENT',
        `message of ${size} bytes exceeds the limit of ${this.#config.maxMessageBytes} bytes; split it into a txn`,
        { details: { size, limit: this.#config.maxMessageBytes } },
      );
    }
  }

  /** Checks that `vchannel` belongs to this pchannel; remembers it (parsing names is on the append path). */
  #checkVChannel(vchannel: string): void {
    let pchannel: string;
    try {
      pchannel = toPChannel(vchannel);
    } catch (e) {
      throw new StreamingError('INVALID_ARGUMENT', (e as Error).message, { cause: e });
    }
    if (pchannel !== this.pchannel) {
      throw new StreamingError(
        'INVALID_ARGUMENT',
        `vchannel ${vchannel} belongs to pchannel ${pchannel}, not ${this.pchannel}`,
      );
    }
    if (this.#knownVChannels.size >= 100_000) this.#knownVChannels.clear();
    this.#knownVChannels.add(vchannel);
  }

  #onFenced(error: WalError): void {
    if (this.#fenced) return;
    this.#fenced = error;
    this.#log.warn('wal fenced by a newer owner; closing');
    void this.close();
  }
}
