import type { MessageId } from '@streamsvc/message';

import { MinHeap } from '../util/min-heap.js';

/** A durable record waiting to become the last-confirmed id. */
export interface ConfirmCandidate {
  readonly id: MessageId;
  /** The highest time tick allocated when this record was acknowledged. */
  readonly endTt: bigint;
  /** The txn the record belongs to, if any: it holds the last-confirmed id back until the txn is done. */
  readonly txn: { isDoneAt(tt: bigint): boolean } | undefined;
}

/**
 * Tracks the WAL's last-confirmed id: the largest id X such that every record before X is durable,
 * was acknowledged, and belongs to no open transaction. A message stamped with X promises that every
 * message with a time tick ≥ its own has an id ≥ X, so reading from X never misses it — and a txn still
 * open holds X at (or before) its BeginTxn, so a reader starting there can assemble it.
 */
export class LastConfirmedManager {
  #current: MessageId;
  readonly #pending = new MinHeap<ConfirmCandidate>((a, b) => a.id.compare(b.id) < 0);

  constructor(initial: MessageId, pinnedBy: readonly ConfirmCandidate[] = []) {
    this.#current = initial;
    for (const c of pinnedBy) this.#pending.push(c);
  }

  get current(): MessageId {
    return this.#current;
  }

  /** Number of records not yet folded into the last-confirmed id. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Adds newly confirmed records and advances as far as `lastConfirmedTt` allows. */
  add(candidates: readonly ConfirmCandidate[], lastConfirmedTt: bigint): void {
    for (const c of candidates) this.#pending.push(c);
    this.advance(lastConfirmedTt);
  }

  /** Adds one confirmed record without advancing (call {@link advance} after a batch of them). */
  push(candidate: ConfirmCandidate): void {
    this.#pending.push(candidate);
  }

  /**
   * Folds in, in id order, every pending record acknowledged before everything allocated at its ack was
   * confirmed (`endTt <= lastConfirmedTt`: no earlier record can still be in flight) and not held by an
   * open txn. Stops at the first record that does not qualify.
   */
  advance(lastConfirmedTt: bigint): void {
    for (let top = this.#pending.peek(); top !== undefined; top = this.#pending.peek()) {
      if (top.endTt > lastConfirmedTt) return;
      if (top.txn && !top.txn.isDoneAt(lastConfirmedTt)) return;
      this.#pending.pop();
      if (top.id.compare(this.#current) > 0) this.#current = top.id;
    }
  }
}
