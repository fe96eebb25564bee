import { MessageType, StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

import type { AckManager } from '../timetick/ack-manager.js';
import type { TxnManager } from '../txn/txn-manager.js';
import type { TxnSession } from '../txn/txn-session.js';
import type { AppendContext, AppendInterceptor, AppendNext, AppendResult } from './interceptor.js';

type TxnRole = 'begin' | 'body' | 'commit' | 'rollback';

const isTxnControl = (type: MessageType): boolean =>
  type === MessageType.BeginTxn || type === MessageType.CommitTxn || type === MessageType.RollbackTxn;

/**
 * Gives every message its time tick and last-confirmed id, and runs the transaction state machine.
 * The tick is allocated here and acknowledged when the append below finished, whatever happened —
 * an allocation that is never acknowledged would stall time ticks forever.
 */
export class TimeTickInterceptor implements AppendInterceptor {
  readonly name = 'timetick';
  readonly #acks: AckManager;
  readonly #txns: TxnManager;
  readonly #onAcked: () => void;

  /** @param onAcked called after every data append finished (the time-tick sync wants to run soon). */
  constructor(acks: AckManager, txns: TxnManager, onAcked: () => void) {
    this.#acks = acks;
    this.#txns = txns;
    this.#onAcked = onAcked;
  }

  async append(ctx: AppendContext, next: AppendNext): Promise<AppendResult> {
    const message = ctx.message;
    if (message.type === MessageType.TimeTick) {
      // The sync stamped it already; expire what it ends.
      this.#txns.cleanupUntil(message.timeTick!);
      return next(ctx);
    }
    const allocated = this.#acks.allocate({ barrierTt: message.barrierTimeTick, signal: ctx.signal });
    const acker = allocated instanceof Promise ? await allocated : allocated;
    let role: TxnRole | undefined;
    let session: TxnSession | undefined;
    try {
      message.withTimeTick(acker.tt).withLastConfirmed(acker.lastConfirmed);
      // Most appends are outside any txn: they skip the txn step and its await.
      if (message.txnContext !== undefined || isTxnControl(message.type)) {
        [role, session] = await this.#enterTxn(message, acker.tt);
      }
      const result = await next(ctx);
      this.#leaveTxn(role, session, acker.tt, true, result.id);
      this.#acks.ack(acker, { message: result.message, txn: session });
      return role === 'begin' ? { ...result, txnContext: message.txnContext } : result;
    } catch (e) {
      this.#leaveTxn(role, session, acker.tt, false, undefined);
      this.#acks.ack(acker);
      throw e;
    } finally {
      this.#onAcked();
    }
  }

  async #enterTxn(message: MutableMessage, tt: bigint): Promise<[TxnRole | undefined, TxnSession | undefined]> {
    if (message.is(MessageType.BeginTxn)) {
      if (message.txnContext !== undefined) {
        throw new StreamingError('INVALID_ARGUMENT', 'BeginTxn must not carry a txn context; the WAL assigns it');
      }
      const session = this.#txns.begin(tt, message.vchannel!, message.header.keepaliveMs);
      message.withTxnContext({ txnId: session.txnId, keepaliveMs: session.keepaliveMs });
      return ['begin', session];
    }
    const ctx = message.txnContext;
    if (ctx === undefined) {
      if (message.type === MessageType.CommitTxn || message.type === MessageType.RollbackTxn) {
        throw new StreamingError('INVALID_ARGUMENT', `${message.typeName} without a txn context (_tx)`);
      }
      return [undefined, undefined];
    }
    const session = this.#txns.get(ctx.txnId);
    if (session.vchannel !== message.vchannel) {
      throw new StreamingError(
        'INVALID_ARGUMENT',
        `txn ${ctx.txnId} is on vchannel ${session.vchannel}; its messages cannot go to ${message.vchannel ?? '(none)'}`,
      );
    }
    if (message.type === MessageType.CommitTxn) {
      await session.requestCommit(tt);
      return ['commit', session];
    }
    if (message.type === MessageType.RollbackTxn) {
      session.requestRollback(tt);
      return ['rollback', session];
    }
    session.beginBody(tt);
    return ['body', session];
  }

  #leaveTxn(role: TxnRole | undefined, session: TxnSession | undefined, tt: bigint, ok: boolean, id: unknown): void {
    if (!session) return;
    switch (role) {
      case 'begin':
        if (ok) session.beginId = id as TxnSession['beginId'];
        else this.#txns.discard(session.txnId);
        break;
      case 'body':
        session.endBody(tt, ok);
        break;
      case 'commit':
        session.commitDone(ok);
        break;
      case 'rollback':
        session.rollbackDone(ok);
        break;
      case undefined:
        break;
    }
    if (role === 'commit' || role === 'rollback') this.#acks.refreshLastConfirmed();
  }
}
