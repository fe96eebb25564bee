import { StreamingError } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import { physicalMsOf } from '@streamsvc/tso';

/** Where a transaction is in its life. */
export type TxnState = 'inFlight' | 'onCommit' | 'committed' | 'onRollback' | 'rolledBack' | 'failed';

/**
 * The server side of one transaction on one vchannel. Body appends count in and out so a commit waits
 * for them; every successful append keeps the txn alive; once `keepaliveMs` of TSO time passes without
 * one, the txn is expired for good.
 */
export class TxnSession {
  readonly txnId: bigint;
  readonly vchannel: string;
  readonly keepaliveMs: number;
  /** The id of the BeginTxn record once it is durable (pins the last-confirmed id while the txn is open). */
  beginId: MessageId | undefined;
  #state: TxnState = 'inFlight';
  #lastTt: bigint;
  /** The CommitTxn's time tick, once the commit started. */
  #commitTt: bigint | undefined;
  #expired = false;
  #inFlight = 0;
  #failure: string | undefined;
  readonly #idleWaiters: (() => void)[] = [];

  constructor(txnId: bigint, vchannel: string, beginTt: bigint, keepaliveMs: number) {
    this.txnId = txnId;
    this.vchannel = vchannel;
    this.keepaliveMs = keepaliveMs;
    this.#lastTt = beginTt;
  }

  get state(): TxnState {
    return this.#state;
  }

  /** Time tick of the last successful append of this txn (its keepalive runs from here). */
  get lastTimeTick(): bigint {
    return this.#lastTt;
  }

  /** True when `tt` lies a full keepalive (in TSO physical time) after the last activity. */
  isExpiredAt(tt: bigint): boolean {
    return this.#expired || physicalMsOf(tt) >= physicalMsOf(this.#lastTt) + this.keepaliveMs;
  }

  /**
   * True when the txn can no longer hold anything up at `tt`: rolled back, failed, expired, or committed
   * with its CommitTxn at or below `tt`. A commit above `tt` still holds the last-confirmed id at the
   * BeginTxn: a reader resuming from a tick below the commit must read the BeginTxn to assemble it.
   */
  isDoneAt(tt: bigint): boolean {
    return (
      (this.#state === 'committed' && tt >= this.#commitTt!) ||
      this.#state === 'rolledBack' ||
      this.#state === 'failed' ||
      this.isExpiredAt(tt)
    );
  }

  /**
   * Registers a body append at `tt`.
   * @throws {StreamingError} TRANSACTION_EXPIRED (sticky); INVALID_TRANSACTION_STATE when not in flight.
   */
  beginBody(tt: bigint): void {
    this.#checkAlive(tt, 'append to');
    if (this.#state !== 'inFlight') throw this.#wrongState('append to');
    this.#inFlight++;
  }

  /** Ends a body append; a successful one keeps the txn alive from `tt`. */
  endBody(tt: bigint, ok: boolean): void {
    this.#inFlight--;
    if (ok && tt > this.#lastTt) this.#lastTt = tt;
    if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /**
   * Starts the commit at `tt` and waits until no body append is in flight.
   * @throws {StreamingError} TRANSACTION_EXPIRED; INVALID_TRANSACTION_STATE.
   */
  async requestCommit(tt: bigint): Promise<void> {
    this.#checkAlive(tt, 'commit');
    if (this.#state !== 'inFlight') throw this.#wrongState('commit');
    this.#state = 'onCommit';
    this.#commitTt = tt;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if ((this.#state as TxnState) === 'failed') throw this.#wrongState('commit');
  }

  /** Ends the commit: committed when the CommitTxn record is durable, failed otherwise. */
  commitDone(ok: boolean): void {
    this.#state = ok ? 'committed' : 'failed';
    if (!ok) this.#failure = 'its commit could not be written';
  }

  /**
   * Starts the rollback at `tt`.
   * @throws {StreamingError} TRANSACTION_EXPIRED; INVALID_TRANSACTION_STATE.
   */
  requestRollback(tt: bigint): void {
    this.#checkAlive(tt, 'roll back');
    if (this.#state !== 'inFlight') throw this.#wrongState('roll back');
    this.#state = 'onRollback';
  }

  rollbackDone(ok: boolean): void {
    this.#state = ok ? 'rolledBack' : 'failed';
  }

  /** Records activity seen while replaying the log after a restart (keeps the txn alive from `tt`). */
  observe(tt: bigint): void {
    if (tt > this.#lastTt) this.#lastTt = tt;
  }

  /** Fails the txn (an exclusive DDL on its vchannel, or the WAL closing): later calls are refused. */
  fail(reason: string): void {
    if (this.#state === 'committed' || this.#state === 'rolledBack') return;
    this.#state = 'failed';
    this.#failure = reason;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #checkAlive(tt: bigint, what: string): void {
    if (this.isExpiredAt(tt)) {
      this.#expired = true;
      throw new StreamingError(
        'TRANSACTION_EXPIRED',
        `cannot ${what} txn ${this.txnId}: no append for ${this.keepaliveMs} ms (its keepalive)`,
        { details: { txnId: String(this.txnId), vchannel: this.vchannel } },
      );
    }
  }

  #wrongState(what: string): StreamingError {
    const why = this.#state === 'failed' && this.#failure ? ` (${this.#failure})` : '';
    return new StreamingError(
      'INVALID_TRANSACTION_STATE',
      `cannot ${what} txn ${this.txnId}: it is ${this.#state}${why}`,
      { details: { txnId: String(this.txnId), state: this.#state } },
    );
  }
}
