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
    const id = codec.parse(r.messageId);
    const lastConfirmed = parseLastConfirmed(r.lastConfirmed, codec);
    if (r.txn === undefined) return { id, timeTick: r.timeTick, lastConfirmed };
    return {
      id,
      timeTick: r.timeTick,
      lastConfirmed,
      txnContext: { txnId: r.txn.txnId, keepaliveMs: r.txn.keepaliveMs },
    };
  } catch (cause) {
    throw new StreamingError('UNKNOWN', `the server returned an unparsable append result for wal ${codec.walName}`, {
      cause,
      retriable: false,
    });
  }
}

/** The last last-confirmed id parsed: a WAL answers many appends in a row with the same one. */
let lastParsed: {
  readonly codec: MessageIdCodec | undefined;
  readonly text: string;
  readonly id: MessageId | undefined;
} = {
  codec: undefined,
  text: '',
  id: undefined,
};

/** Parses a last-confirmed id, reusing the previous id object when the text and codec are the same (ids never change). */
function parseLastConfirmed(text: string, codec: MessageIdCodec): MessageId {
  const last = lastParsed;
  if (last.id !== undefined && last.codec === codec && last.text === text) return last.id;
  const id = codec.parse(text);
  lastParsed = { codec, text, id };
  return id;
}
