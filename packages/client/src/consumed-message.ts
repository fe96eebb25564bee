import { decodeImmutableMessage, ImmutableTxnMessage, StreamingError } from '@streamsvc/message';
import type { AnyImmutableMessage, MessageIdCodecs } from '@streamsvc/message';
import type { ConsumedMessage } from '@streamsvc/proto';

/**
 * Decodes one delivered message: a single stored message, or a committed transaction's parts assembled
 * into one `Txn` message (bodies re-stamped with the commit's time tick and last-confirmed id).
 * @throws StreamingError `UNKNOWN` (not retriable: the same bytes would come again) when the bytes do not
 *   decode, name a WAL without a codec, or do not form a transaction.
 */
export function decodeConsumed(consumed: ConsumedMessage, idCodecs: MessageIdCodecs): AnyImmutableMessage {
  const m = consumed.message;
  try {
    switch (m?.$case) {
      case 'single':
        return decodeImmutableMessage(m.single, idCodecs) as AnyImmutableMessage;
      case 'txn':
        return ImmutableTxnMessage.assemble(
          decodeImmutableMessage(m.txn.begin, idCodecs),
          m.txn.body.map((b) => decodeImmutableMessage(b, idCodecs)),
          decodeImmutableMessage(m.txn.commit, idCodecs),
        );
      case undefined:
        throw new Error('the consumed message is empty');
    }
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    throw new StreamingError('UNKNOWN', `could not decode a consumed message: ${text}`, { cause, retriable: false });
  }
}
