import { StreamingError } from '@streamsvc/message';

import { TxnSession } from './txn-session.js';

/** How many expired txn ids are remembered for a clear error on a late commit. */
const EXPIRED_MEMORY = 10_000;

/** Keepalive of a txn whose BeginTxn says 0. */
export const DEFAULT_TXN_KEEPALIVE_MS = 10_000;

/**
 * Every open transaction of one WAL. A txn's id is the time tick of its BeginTxn: unique on the
 * pchannel (and across pchannels, since time ticks come from one TSO).
 */
export class TxnManager {
  readonly #sessions = new Map<bigint, TxnSession>();
  /** Ids of txns cleaned up because they expired, so a late commit hears TRANSACTION_EXPIRED. Bounded. */
  readonly #expired = new Set<bigint>();
  readonly #defaultKeepaliveMs: number;

  constructor(defaultKeepaliveMs = DEFAULT_TXN_KEEPALIVE_MS) {
    this.#defaultKeepaliveMs = defaultKeepaliveMs;
  }

  /** Number of sessions not yet cleaned up. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a txn whose BeginTxn got time tick `tt`; keepalive 0 means the default. */
  begin(tt: bigint, vchannel: string, keepaliveMs: number): TxnSession {
    const session = new TxnSession(tt, vchannel, tt, keepaliveMs > 0 ? keepaliveMs : this.#defaultKeepaliveMs);
    this.#sessions.set(tt, session);
    return session;
  }

  /** Puts back a txn found open while replaying the log after a restart. */
  restore(session: TxnSession): void {
    this.#sessions.set(session.txnId, session);
  }

  /** Forgets a txn whose BeginTxn could not be written. */
  discard(txnId: bigint): void {
    this.#sessions.delete(txnId);
  }

  /**
   * @throws {StreamingError} INVALID_TRANSACTION_STATE for an unknown txn (never begun here, finished
   *   and cleaned up, or begun on an earlier owner that had not persisted it).
   */
  get(txnId: bigint): TxnSession {
    const session = this.#sessions.get(txnId);
    if (!session && this.#expired.has(txnId)) {
      throw new StreamingError('TRANSACTION_EXPIRED', `txn ${txnId} expired (no append within its keepalive)`, {
        details: { txnId: String(txnId) },
      });
    }
    if (!session) {
      throw new StreamingError(
        'INVALID_TRANSACTION_STATE',
        `txn ${txnId} is unknown on this pchannel (finished, expired and cleaned up, or never begun)`,
        { details: { txnId: String(txnId) } },
      );
    }
    return session;
  }

  /** Drops every session that is finished or expired at `tt` (called on each time tick). */
  cleanupUntil(tt: bigint): void {
    for (const [id, session] of this.#sessions) {
      if (session.isDoneAt(tt) && session.state !== 'onCommit' && session.state !== 'onRollback') {
        this.#sessions.delete(id);
        if (session.state === 'inFlight') this.#rememberExpired(id);
      }
    }
  }

  #rememberExpired(txnId: bigint): void {
    this.#expired.add(txnId);
    if (this.#expired.size > EXPIRED_MEMORY) this.#expired.delete(this.#expired.values().next().value!);
  }

  /** Fails every open txn of `vchannel` (an exclusive DDL is being applied to it). */
  failVChannel(vchannel: string, reason: string): void {
    for (const session of this.#sessions.values()) if (session.vchannel === vchannel) session.fail(reason);
  }

  /** Fails every open txn (the WAL is closing). */
  failAll(reason: string): void {
    for (const session of this.#sessions.values()) session.fail(reason);
  }

  /** The open sessions, for recovery snapshots and tests. */
  sessions(): readonly TxnSession[] {
    return [...this.#sessions.values()];
  }
}
