import { counterMessageIdCodec } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import { parseOwnMessageId } from '@streamsvc/wal-core';

/** The message ids of the memory backend: one offset per pchannel, string form `v1:<offset>`. */
export const memoryMessageIds = counterMessageIdCodec('memory');

/**
 * The offset behind `id`. Parsing the string form (rather than reading a field) accepts ids from any
 * copy of the message package and checks the value in one place.
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend or not an id at all.
 */
export function offsetOf(id: MessageId, what: string): bigint {
  return parseOwnMessageId(memoryMessageIds, id, what).offset;
}
