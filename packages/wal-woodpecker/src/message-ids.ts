import { segmentEntryMessageIdCodec } from '@streamsvc/message';
import type { MessageId, SegmentEntryMessageId } from '@streamsvc/message';
import { parseOwnMessageId, WalError, WalErrorCode } from '@streamsvc/wal-core';

/** The message ids of the woodpecker backend: (segment, entry), string form `v1:<segment>:<entry>`. */
export const woodpeckerMessageIds = segmentEntryMessageIdCodec('woodpecker');

/** A position in a log: the segment and the entry within it. Plain numbers: both stay far below 2^53. */
export interface LogPosition {
  readonly segmentId: number;
  readonly entryId: number;
}

/** The id of entry `entryId` of segment `segmentId`. */
export function idOf(segmentId: number, entryId: number): SegmentEntryMessageId {
  return woodpeckerMessageIds.of(BigInt(segmentId), BigInt(entryId));
}

/**
 * The position behind `id`. Parsing the string form (rather than reading fields) accepts ids from any
 * copy of the message package and checks the value in one place.
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend, or not an id at all, or one
 *   beyond 2^53.
 */
export function positionOf(id: MessageId, what: string): LogPosition {
  const parsed = parseOwnMessageId(woodpeckerMessageIds, id, what);
  const text = id.toString();
  if (parsed.segmentId > BigInt(Number.MAX_SAFE_INTEGER) || parsed.entryId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WalError(WalErrorCode.INVALID_MESSAGE_ID, `${what}: id ${text} was never issued by this backend`);
  }
  return { segmentId: Number(parsed.segmentId), entryId: Number(parsed.entryId) };
}
