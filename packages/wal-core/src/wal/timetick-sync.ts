import { deferred, systemClock } from '@streamsvc/common';
import type { Clock, Deferred, Logger } from '@streamsvc/common';
import { MessageBuilder, StreamingError } from '@streamsvc/message';
import type { ImmutableMessage, MessageId, MutableMessage } from '@streamsvc/message';

import type { AckManager } from '../timetick/ack-manager.js';
import type { TxnManager } from '../txn/txn-manager.js';
import type { WriteAheadBuffer } from '../wab/write-ahead-buffer.js';
import type { AppendContext, AppendResult } from './interceptor.js';

export interface TimeTickSyncOptions {
  readonly acks: AckManager;
  readonly txns: TxnManager;
  readonly wab: WriteAheadBuffer;
  readonly term: bigint;
  readonly intervalMs: number;
  /**
   * Longest a confirmed message waits for a persisted tick. Ticks after data are published in memory
   * at once (tail readers need nothing more) and written to the backend at most this often (catch-up
   * readers need them there), so a busy or an idle WAL does not spend a backend write per append.
   */
  readonly persistIntervalMs: number;
  readonly clock?: Clock;
  readonly logger: Logger;
}

/** The reason the ticker's sleep is cut short with: a constant, not a fresh DOMException with a stack. */
const IDLE_WAIT_CANCELLED = Object.freeze(new Error('[wal] idle wait cancelled'));

type AppendTick = (tick: MutableMessage, ctx: AppendContext) => Promise<AppendResult>;

/**
 * Publishes time ticks. After appends (on demand, one sync at a time) it pushes the messages whose
 * every earlier allocation is acknowledged into the write-ahead buffer under a tick at the confirmed
 * boundary — tail readers see a message as soon as it and everything before it are durable, not one
 * backend write later. When nothing can be published that way but a tick is wanted (idle, a reader or
 * the close asking, or a TSO block's end where the boundary has no free tt) it takes a fresh tick and
 * waits until every earlier allocation is acknowledged; idle, such a tick every `intervalMs` keeps
 * readers' safe time moving. A tick is also written to the backend when data has waited
 * `persistIntervalMs` for one (catch-up readers release messages only on persisted ticks) or when asked.
 */
export class TimeTickSync {
  readonly #o: TimeTickSyncOptions;
  readonly #clock: Clock;
  #append: AppendTick | undefined;
  #wake: Deferred<void> = deferred();
  #requested = false;
  /** A fresh tick is wanted (idle ticker, a reader, the close), not only what appends confirmed. */
  #full = false;
  #forcePersist = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #ticker: Promise<void> | undefined;
  #tickerSleep: AbortController | undefined;
  #lastSyncMs = 0;
  readonly #abort = new AbortController();
  /** Confirmed messages whose tick failed to be written: they go with the next one. */
  #carry: ImmutableMessage[] = [];
  /** Data was published under in-memory ticks since the last persisted tick. */
  #unpersisted = false;
  #lastPersistMs = 0;

  constructor(options: TimeTickSyncOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  start(append: AppendTick): void {
    this.#append = append;
    this.#lastSyncMs = this.#clock.nowMs();
    this.#loop = this.#run();
    this.#ticker = this.#tick();
  }

  /** Asks for a sync with a fresh tick soon; `persist` forces it to be written even without data. */
  request(persist = false): void {
    if (persist) this.#forcePersist = true;
    this.#full = true;
    this.acked();
  }

  /** An append finished: publish what it confirmed soon. */
  acked(): void {
    // Already requested: the loop was woken (or is syncing and will run again without waiting).
    if (this.#requested) return;
    this.#requested = true;
    this.#wake.resolve();
  }

  /**
   * Stops the loop, then publishes one last tick when `finalTick` (so tail readers get the last data),
   * waiting at most `finalTickTimeoutMs` for appends still in flight.
   */
  async stop(options: { finalTick: boolean; finalTickTimeoutMs?: number }): Promise<void> {
    if (this.#stopped) return this.#loop;
    this.#stopped = true;
    this.#abort.abort();
    this.#tickerSleep?.abort(IDLE_WAIT_CANCELLED);
    this.#wake.resolve();
    await Promise.all([this.#loop, this.#ticker]);
    if (options.finalTick) {
      const signal = AbortSignal.timeout(options.finalTickTimeoutMs ?? 3000);
      await this.#syncOnce(false, true, signal).catch((e: unknown) =>
        this.#o.logger.debug({ err: e }, 'final tick failed'),
      );
    }
  }

  /** The sync loop: one sync per batch of requests (appends, readers, the idle ticker). */
  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!this.#stopped) {
      if (!this.#requested) {
        this.#wake = deferred();
        await this.#wake.promise;
        if (this.#stopped) break;
      }
      this.#requested = false;
      const force = this.#forcePersist;
      const full = this.#full;
      this.#forcePersist = false;
      this.#full = false;
      try {
        await this.#syncOnce(force, full, signal);
      } catch (e) {
        if (this.#stopped || StreamingError.is(e, 'CHANNEL_FENCED') || StreamingError.is(e, 'ON_SHUTDOWN')) break;
        this.#o.logger.warn({ err: e }, 'time tick sync failed; retrying');
        await this.#clock.sleep(this.#o.intervalMs, { signal }).catch(() => undefined);
      } finally {
        this.#lastSyncMs = this.#clock.nowMs();
      }
    }
  }

  /**
   * Requests a sync when none ran for a period: `intervalMs` (an in-memory tick keeps readers' safe time
   * moving), or `persistIntervalMs` while published data waits for a persisted tick. One timer per
   * period, not one per sync: at moderate rates every append ends in its own sync, and a timer, an
   * abort controller and a race for each idle wait cost more than the sync.
   */
  async #tick(): Promise<void> {
    while (!this.#stopped) {
      const period = this.#unpersisted ? this.#o.persistIntervalMs : this.#o.intervalMs;
      const idleMs = this.#clock.nowMs() - this.#lastSyncMs;
      if (idleMs >= period) this.request();
      const sleep = new AbortController();
      this.#tickerSleep = sleep;
      await this.#clock
        .sleep(Math.max(1, idleMs >= period ? period : period - idleMs), { signal: sleep.signal })
        .catch(() => undefined);
      this.#tickerSleep = undefined;
    }
  }

  /**
   * One sync: publishes what the appends confirmed under a tick at the confirmed boundary at once, or —
   * when there is none but a tick is wanted — waits for the appends in flight below a fresh tick.
   */
  async #syncOnce(forcePersist: boolean, full: boolean, signal: AbortSignal): Promise<void> {
    const append = this.#append;
    if (!append) return;
    let step = this.#o.acks.takeConfirmed();
    if (step === undefined) {
      // An append finished below one still in flight: that one's ack comes back here.
      const wanted = full || forcePersist || this.#carry.length > 0 || this.#o.acks.confirmedWaiting;
      if (!wanted) return;
      step = await this.#o.acks.syncTick({ signal });
    }
    await this.#publish(append, step, forcePersist);
  }

  /**
   * Publishes one tick with the messages it confirms into the write-ahead buffer. When data has waited
   * `persistIntervalMs` for a persisted tick (or `forcePersist`) the tick is written to the backend
   * first — catch-up readers release messages only on ticks they read there, and tail readers must see
   * the same persisted ticks — which delays this one group by a backend write once per interval.
   */
  async #publish(
    append: AppendTick,
    step: { tt: bigint; lastConfirmed: MessageId; confirmed: ImmutableMessage[] },
    forcePersist: boolean,
  ): Promise<void> {
    const confirmed = this.#carry.length > 0 ? [...this.#carry, ...step.confirmed] : step.confirmed;
    const now = this.#clock.nowMs();
    const dirty = this.#unpersisted || confirmed.length > 0;
    const persist = forcePersist || (dirty && now - this.#lastPersistMs >= this.#o.persistIntervalMs);
    const tick = this.#tickAt(step);
    let stored: ImmutableMessage;
    if (persist) {
      try {
        stored = (await append(tick, { message: tick, signal: undefined })).message;
      } catch (e) {
        this.#carry = confirmed;
        throw e;
      }
    } else {
      // Never written: no interceptor has anything to do with it (they all pass ticks through), and at
      // moderate rates there is one per append.
      stored = tick.withNotPersisted().intoImmutable(step.lastConfirmed);
    }
    this.#carry = [];
    if (persist) {
      this.#unpersisted = false;
      this.#lastPersistMs = now;
    } else if (dirty && !this.#unpersisted) {
      this.#unpersisted = true;
      // The ticker may be sleeping out a whole idle interval: have it wake within persistIntervalMs.
      this.#tickerSleep?.abort(IDLE_WAIT_CANCELLED);
    }
    this.#o.wab.push(confirmed, stored);
    this.#o.txns.cleanupUntil(step.tt);
    this.#o.acks.refreshLastConfirmed();
  }

  #tickAt(step: { tt: bigint; lastConfirmed: MessageId }): MutableMessage {
    return MessageBuilder.timeTick()
      .build()
      .withTimeTick(step.tt)
      .withWalTerm(this.#o.term)
      .withLastConfirmed(step.lastConfirmed);
  }
}
