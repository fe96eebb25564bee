import type { TxnContext } from './gen/streamsvc/message/v1/envelope.js';
import { restampImmutable } from './immutable-message.js';
import type { ImmutableMessage } from './immutable-message.js';
import { MessageError } from './message-error.js';
import type { MessageId } from './message-id.js';
import type { WritableMessageType } from './message-specs.js';
import { isTxnBodyMessageType, MessageType } from './message-type.js';

/** The message types allowed inside a transaction. */
export type TxnBodyMessageType = typeof MessageType.Insert | typeof MessageType.Delete | typeof MessageType.Data;

/** A body message of a transaction: an Insert, Delete or Data message. */
export type TxnBodyMessage = {
  [K in TxnBodyMessageType]: ImmutableMessage<K>;
}[TxnBodyMessageType];

/**
 * A committed transaction as readers see it: BeginTxn, the body messages and CommitTxn, delivered as one
 * message of type `Txn` at the commit's time tick. Never written to a WAL: on the wire the parts travel
 * one by one and readers assemble them with {@link ImmutableTxnMessage.assemble}.
 */
export class ImmutableTxnMessage {
  /** Always `MessageType.Txn`. */
  readonly type = MessageType.Txn;
  /** The BeginTxn message. */
  readonly begin: ImmutableMessage<typeof MessageType.BeginTxn>;
  /** The body messages in WAL order, each re-stamped with the commit's time tick and last-confirmed id. */
  readonly body: readonly TxnBodyMessage[];
  /** The CommitTxn message. */
  readonly commit: ImmutableMessage<typeof MessageType.CommitTxn>;

  private constructor(
    begin: ImmutableMessage<typeof MessageType.BeginTxn>,
    body: readonly TxnBodyMessage[],
    commit: ImmutableMessage<typeof MessageType.CommitTxn>,
  ) {
    this.begin = begin;
    this.body = body;
    this.commit = commit;
  }

  /**
   * Assembles a transaction from its parts. Each body message is copied with the commit's time tick and
   * last-confirmed id, so downstream sees the whole transaction happen at one point in time.
   * @throws MessageError `INVALID_MESSAGE` when `begin`/`commit` have the wrong type, a part has no txn
   *   context or another txn id, a body message has a type not allowed in transactions, or the parts are
   *   on different vchannels; `WAL_MISMATCH` when they come from different WALs.
   */
  static assemble(
    begin: ImmutableMessage,
    body: readonly ImmutableMessage[],
    commit: ImmutableMessage,
  ): ImmutableTxnMessage {
    if (!begin.is(MessageType.BeginTxn)) throw invalid(`a transaction starts with BeginTxn, not ${begin.typeName}`);
    if (!commit.is(MessageType.CommitTxn)) throw invalid(`a transaction ends with CommitTxn, not ${commit.typeName}`);
    const txnId = txnIdOf(begin, 'BeginTxn');
    const vchannel = begin.vchannel;
    const check = (m: ImmutableMessage, role: string): void => {
      // Comparing ids checks the WAL name too (WAL_MISMATCH across backends).
      m.id.compare(begin.id);
      if (txnIdOf(m, role) !== txnId) throw invalid(`${role} belongs to txn ${txnIdOf(m, role)}, not ${txnId}`);
      if (m.vchannel !== vchannel)
        throw invalid(`${role} is on vchannel ${m.vchannel ?? '(none)'}, the txn on ${vchannel ?? '(none)'}`);
    };
    check(commit, 'CommitTxn');
    const restamped = body.map((m, i) => {
      const role = `body message ${i} (${m.typeName})`;
      if (!isTxnBodyMessageType(m.type)) throw invalid(`${role} has a type that cannot be part of a transaction`);
      check(m, role);
      return restampImmutable(m, commit.timeTick, commit.lastConfirmed) as TxnBodyMessage;
    });
    return new ImmutableTxnMessage(begin, restamped, commit);
  }

  /** The commit's id: where the transaction became visible. */
  get id(): MessageId {
    return this.commit.id;
  }

  /** The commit's time tick. */
  get timeTick(): bigint {
    return this.commit.timeTick;
  }

  /** The commit's last-confirmed id. */
  get lastConfirmed(): MessageId {
    return this.commit.lastConfirmed;
  }

  /** The vchannel every part is on. */
  get vchannel(): string | undefined {
    return this.commit.vchannel;
  }

  /** The transaction context (from the commit). */
  get txnContext(): TxnContext {
    return this.commit.txnContext as TxnContext;
  }

  /** The WAL that stored the parts. */
  get walName(): string {
    return this.commit.walName;
  }

  /** Sum of the parts' sizes. */
  estimateSize(): number {
    return this.body.reduce((sum, m) => sum + m.estimateSize(), this.begin.estimateSize() + this.commit.estimateSize());
  }
}

/** Any message a reader can deliver: one stored message of any type, or an assembled transaction. */
export type AnyImmutableMessage =
  { [K in WritableMessageType]: ImmutableMessage<K> }[WritableMessageType] | ImmutableTxnMessage;

function txnIdOf(m: ImmutableMessage, role: string): bigint {
  const ctx = m.txnContext;
  if (ctx === undefined) throw invalid(`${role} has no txn context (_tx)`);
  return ctx.txnId;
}

function invalid(problem: string): MessageError {
  return new MessageError('INVALID_MESSAGE', `cannot assemble transaction: ${problem}`);
}
