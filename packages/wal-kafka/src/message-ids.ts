import { counterMessageIdCodec } from '@streamsvc/message';
import type { CounterMessageId, MessageId } from '@streamsvc/message';
import { parseOwnMessageId } from '@streamsvc/wal-core';

/**
 * The message ids of the Kafka backend: the offset in partition 0 of the pchannel's topic, string form
 * `v1:<offset>` (decimal, as Kafka tooling prints offsets). The same codec the client's
 * `defaultIdCodecs` registers for `kafka`, so clients parse these ids without this package.
 */
export const kafkaMessageIds = counterMessageIdCodec('kafka');

/** The id of the record at `offset`. */
export function idOf(offset: bigint): CounterMessageId {
  return kafkaMessageIds.of(offset);
}

/**
 * The offset behind `id`. Parsing the string form (rather than reading a field) accepts ids from any
 * copy of the message package and checks the value in one place.
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend or not an id at all.
 */
export function offsetOf(id: MessageId, what: string): bigint {
  return parseOwnMessageId(kafkaMessageIds, id, what).offset;
}
