import { StreamingError } from '@streamsvc/message';
import type { MessageId, MessageIdCodec } from '@streamsvc/message';
import type { AppendResult as AppendResultPb } from '@streamsvc/proto';

/** The transaction an appended BeginTxn opened. */
export interface TxnContextResult {
  readonly txnId: bigint;
  /** The keepalive the server applies (its default when 0 was asked for). */
  readonly keepaliveMs: number;
}

/** Where an appended message landed. */
export interface AppendResult {
  /** The message's id in its pchannel's WAL. */
  readonly id: MessageId;
  /** The time tick (TSO) the WAL assigned. */
  readonly timeTick: bigint;
  /** The resume point: reading from it and dropping tt < {@link timeTick} loses nothing from this message on. */
  readonly lastConfirmed: MessageId;
  /** Set for a BeginTxn: the transaction it opened. */
  readonly txnContext?: TxnContextResult;
}

/**
 * Parses a wire result with the codec of the WAL that produced it.
 * @throws StreamingError `UNKNOWN` when the ids do not parse (a server bug or a codec mismatch).
 */
export function appendResultFromWire(r: AppendResultPb, codec: MessageIdCodec): AppendResult {
  try {
    const result: AppendResult = {
      id: codec.parse(r.messageId),
      timeTick: r.timeTick,
      lastConfirmed: codec.parse(r.lastConfirmed),
      ...(r.txn === undefined ? {} : { txnContext: { txnId: r.txn.txnId, keepaliveMs: r.txn.keepaliveMs } }),
    };
    return result;
  } catch (cause) {
    throw new StreamingError('UNKNOWN', `the server returned an unparsable append result for wal ${codec.walName}`, {
      cause,
      retriable: false,
    });
  }
}
