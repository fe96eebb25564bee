import { throwIfAborted } from '@streamsvc/common';
import type { CallOptions } from '@streamsvc/common';
import type { ImmutableMessage, MessageId } from '@streamsvc/message';

import { FifoQueue } from '../util/fifo-queue.js';
import { MinHeap } from '../util/min-heap.js';
import { LastConfirmedManager } from './last-confirmed.js';
import type { ConfirmCandidate } from './last-confirmed.js';

/** The synchronous face of the node's TSO batch allocator that the ack manager needs. */
export interface TimestampSource {
  /** The next timestamp, or undefined when a refill is needed. */
  tryAllocate(): bigint | undefined;
  /** Fetches a fresh block. */
  refill(options?: CallOptions): Promise<void>;
}

/** One allocated time tick, from allocation until its append finished (either way). */
export interface Acker {
  readonly tt: bigint;
  /** The last-confirmed id when the tt was allocated: what the message carries as `_lc`. */
  readonly lastConfirmed: MessageId;
  /** True for the allocations the time-tick sync makes (no record is written for them). */
  readonly sync: boolean;
}

/** What became of an allocation. */
export interface AckOutcome {
  /** The stored message when the append succeeded. */
  readonly message?: ImmutableMessage | undefined;
  /** The txn the message belongs to (holds back the last-confirmed id while open). */
  readonly txn?: ConfirmCandidate['txn'];
}

/** An allocation's bookkeeping; once acknowledged successfully it is also its own confirm candidate. */
interface Detail extends Acker, ConfirmCandidate {
  acked: boolean;
  endTt: bigint;
  /** The stored message's id (set when the append succeeded). */
  id: MessageId;
  message: ImmutableMessage | undefined;
  txn: ConfirmCandidate['txn'];
  /** tt + 1 was taken from the TSO and left unused: a tick at the confirmed boundary may have it. */
  gap: boolean;
}

/**
 * Restores time-tick order over concurrent appends. Every append takes a time tick (allocation and
 * registration happen in one synchronous step, so heap order is allocation order) and acknowledges it
 * when the backend answered, in any order. `lastConfirmedTt` is the largest allocated tick such that
 * every allocation at or below it was acknowledged: only then may a TimeTick at that value be written,
 * because everything before it is durable with a smaller message id.
 */
export class AckManager {
  readonly #tso: TimestampSource;
  /** Allocations in tt order (they are registered in increasing tt): the confirmed ones leave at the head. */
  readonly #notAcked = new FifoQueue<Detail>();
  /** Acknowledged allocations in endTt order (endTt is the last allocated tt at the ack: never decreases). */
  readonly #acked = new FifoQueue<Detail>();
  readonly #lastConfirmed: LastConfirmedManager;
  /** Acknowledged appends not yet handed to a time tick (they go into the write-ahead buffer with it). */
  readonly #unemitted = new MinHeap<Detail>((a, b) => a.tt < b.tt);
  #lastAllocatedTt: bigint;
  #lastConfirmedTt: bigint;
  /** No allocation has `#lastConfirmedTt + 1` (see {@link takeConfirmed}). */
  #gapAfterConfirmed = false;
  readonly #waiters: { tt: bigint; wake: () => void }[] = [];

  /**
   * @param lastTt the time tick everything starts after (the first TimeTick of this term).
   * @param lastConfirmed the id readers may resume from (the first TimeTick's id, or earlier when
   *   recovered open txns pin it).
   */
  constructor(
    tso: TimestampSource,
    lastTt: bigint,
    lastConfirmed: MessageId,
    pinnedBy: readonly ConfirmCandidate[] = [],
  ) {
    this.#tso = tso;
    this.#lastAllocatedTt = lastTt;
    this.#lastConfirmedTt = lastTt;
    this.#lastConfirmed = new LastConfirmedManager(lastConfirmed, pinnedBy);
  }

  /** The largest tick such that every allocation at or below it was acknowledged. */
  get lastConfirmedTt(): bigint {
    return this.#lastConfirmedTt;
  }

  get lastAllocatedTt(): bigint {
    return this.#lastAllocatedTt;
  }

  /** The WAL's current last-confirmed id. */
  get lastConfirmedId(): MessageId {
    return this.#lastConfirmed.current;
  }

  /** Allocations not yet acknowledged. */
  get inFlight(): number {
    return this.#notAcked.size;
  }

  /**
   * Allocates a time tick for an append. With `barrierTt`, first waits until every allocation up to
   * it is confirmed, so the new tick is ordered after everything the caller already observed.
   * Abort: stops waiting; nothing was allocated.
   */
  allocate(options: CallOptions & { barrierTt?: bigint | undefined } = {}): Acker | Promise<Acker> {
    // The common case (no barrier, a fresh block) needs no await: one less promise per append.
    if (options.barrierTt === undefined && !options.signal?.aborted) {
      const tt = this.#tso.tryAllocate();
      if (tt !== undefined) return this.#register(tt, false);
    }
    return this.#allocateSlow(options);
  }

  async #allocateSlow(options: CallOptions & { barrierTt?: bigint | undefined }): Promise<Acker> {
    if (options.barrierTt !== undefined) await this.waitConfirmed(options.barrierTt, options);
    for (;;) {
      throwIfAborted(options.signal);
      const tt = this.#tso.tryAllocate();
      if (tt !== undefined) return this.#register(tt, false);
      await this.#tso.refill(options);
    }
  }

  /**
   * Acknowledges an allocation: the append finished (successfully with `outcome.message`, or not).
   * Must be called exactly once per allocation, failures included, or time ticks stall forever.
   */
  ack(acker: Acker, outcome: AckOutcome = {}): void {
    const detail = acker as Detail;
    if (detail.acked) return;
    detail.acked = true;
    detail.endTt = this.#lastAllocatedTt;
    const message = outcome.message;
    if (message !== undefined) {
      detail.message = message;
      detail.id = message.id;
      detail.txn = outcome.txn;
      // A txn's record pins the last-confirmed id at once: were it to join only once everything
      // allocated by its ack is confirmed, a later record acknowledged earlier could fold in first
      // and carry the id past the txn's BeginTxn — a reader resuming there could never assemble it.
      // Among the candidates it waits until then anyway (advance checks endTt), holding later ids back.
      if (detail.txn !== undefined) this.#lastConfirmed.push(detail);
      else this.#acked.push(detail);
      if (!detail.sync) this.#unemitted.push(detail);
    }
    this.#popConfirmed();
  }

  /**
   * The time-tick sync's step: allocates a tick, acknowledges it at once, and waits until everything
   * allocated before it is acknowledged (appends in flight finish). Returns the tick with the successful
   * appends below it that no earlier tick took, ordered by tick. Waiting on this one tick — rather than
   * giving up and allocating a newer one — keeps ticks coming under continuous load, where some append
   * is always in flight; appends allocated later are above the tick and do not hold it back.
   * Abort: stops waiting; the tick is simply never published.
   */
  async syncTick(
    options?: CallOptions,
  ): Promise<{ tt: bigint; lastConfirmed: MessageId; confirmed: ImmutableMessage[] }> {
    let acker: Acker | undefined;
    for (;;) {
      throwIfAborted(options?.signal);
      const tt = this.#tso.tryAllocate();
      if (tt !== undefined) {
        acker = this.#register(tt, true);
        break;
      }
      await this.#tso.refill(options);
    }
    this.ack(acker);
    await this.waitConfirmed(acker.tt, options);
    // Every allocation below the tick is acknowledged, so the successful ones among them are final (the
    // tick's own allocation is not a message).
    return { tt: acker.tt, lastConfirmed: acker.lastConfirmed, confirmed: this.#takeUnemitted(acker.tt) };
  }

  /**
   * The successful appends at or below `lastConfirmedTt` that no tick took yet, in tt order, with the
   * tick that may publish them: `lastConfirmedTt + 1`, a tt taken from the TSO with that allocation and
   * never handed out, so it lies between the appends below (all acknowledged) and every later one. No
   * allocation and no wait: under continuous load a fresh tick ({@link syncTick}) waits for the appends
   * allocated after these, i.e. for one more backend write, while this one is ready the moment they are.
   * Undefined when there is nothing to publish, or the boundary has no free tt after it
   * ({@link confirmedWaiting} tells those apart).
   */
  takeConfirmed(): { tt: bigint; lastConfirmed: MessageId; confirmed: ImmutableMessage[] } | undefined {
    if (!this.#gapAfterConfirmed || !this.confirmedWaiting) return undefined;
    const confirmed = this.#takeUnemitted(this.#lastConfirmedTt);
    // Every message above the boundary was allocated after every record the current id was folded from
    // was acknowledged (their endTt is at or below the boundary), so its id is at or above the current one.
    return { tt: this.#lastConfirmedTt + 1n, lastConfirmed: this.#lastConfirmed.current, confirmed };
  }

  /** Some successful append at or below `lastConfirmedTt` waits for a tick. */
  get confirmedWaiting(): boolean {
    const top = this.#unemitted.peek();
    return top !== undefined && top.tt <= this.#lastConfirmedTt;
  }

  /** Re-evaluates the last-confirmed id (a txn finished or expired). */
  refreshLastConfirmed(): void {
    this.#lastConfirmed.advance(this.#lastConfirmedTt);
  }

  /** Resolves once every allocation up to `tt` is acknowledged. Abort: stops waiting. */
  waitConfirmed(tt: bigint, options?: CallOptions): Promise<void> {
    if (this.#lastConfirmedTt >= tt) return Promise.resolve();
    throwIfAborted(options?.signal);
    return new Promise((resolve, reject) => {
      const waiter = {
        tt,
        wake: () => {
          options?.signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(options?.signal?.reason);
      };
      options?.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #register(tt: bigint, sync: boolean): Detail {
    if (tt <= this.#lastAllocatedTt) {
      // The TSO is monotonic; a smaller tick means two allocators or a clock bug, and would break order.
      throw new Error(`[wal] time tick ${tt} is not above the last allocated ${this.#lastAllocatedTt}`);
    }
    this.#lastAllocatedTt = tt;
    // Take the next tt too and leave it unused, so a tick may be published right after this allocation
    // without waiting for later ones (takeConfirmed). Costs one logical step of the TSO per append; at a
    // block boundary there is no next one and that boundary takes a fresh tick instead.
    const gap = this.#tso.tryAllocate() !== undefined;
    const lastConfirmed = this.#lastConfirmed.current;
    const detail: Detail = {
      tt,
      lastConfirmed,
      sync,
      acked: false,
      endTt: 0n,
      // Placeholder until the append succeeds; only successful allocations become candidates.
      id: lastConfirmed,
      message: undefined,
      txn: undefined,
      gap,
    };
    this.#notAcked.push(detail);
    return detail;
  }

  /** Removes and returns, in tt order, the successful appends at or below `tt` that no tick took yet. */
  #takeUnemitted(tt: bigint): ImmutableMessage[] {
    const confirmed: ImmutableMessage[] = [];
    for (let top = this.#unemitted.peek(); top !== undefined && top.tt <= tt; top = this.#unemitted.peek()) {
      this.#unemitted.pop();
      confirmed.push(top.message!);
      // It may wait longer as a confirm candidate (a txn pins it): only its id is needed there.
      top.message = undefined;
    }
    return confirmed;
  }

  #popConfirmed(): void {
    let advanced = false;
    for (let top = this.#notAcked.peek(); top?.acked; top = this.#notAcked.peek()) {
      this.#notAcked.shift();
      this.#lastConfirmedTt = top.tt;
      this.#gapAfterConfirmed = top.gap;
      advanced = true;
    }
    if (!advanced) return;
    // Everything allocated by the time these were acknowledged is acknowledged too: nothing earlier is
    // left in flight, and what is allocated later gets a larger id.
    for (
      let top = this.#acked.peek();
      top !== undefined && top.endTt <= this.#lastConfirmedTt;
      top = this.#acked.peek()
    ) {
      this.#lastConfirmed.push(this.#acked.shift()!);
    }
    this.#lastConfirmed.advance(this.#lastConfirmedTt);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.tt <= this.#lastConfirmedTt) {
        this.#waiters.splice(i, 1);
        w.wake();
      }
    }
  }
}
