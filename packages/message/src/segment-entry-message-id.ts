import { MessageError } from './message-error.js';
import {
  assertSameWal,
  checkIdComponent,
  checkWalName,
  invalidIdString,
  parseIdComponent,
  sign,
} from './message-id.js';
import type { MessageId, MessageIdCodec } from './message-id.js';

/** A message id that is a (segment, entry) pair, ordered by segment then entry (the Woodpecker backend). */
export interface SegmentEntryMessageId extends MessageId {
  /** The log segment, in [0, 2^63-1]. */
  readonly segmentId: bigint;
  /** The entry within the segment, in [0, 2^63-1]. */
  readonly entryId: bigint;
}

/** The codec of {@link SegmentEntryMessageId}s of one WAL name. */
export interface SegmentEntryMessageIdCodec extends MessageIdCodec<SegmentEntryMessageId> {
  /**
   * The id of entry `entryId` of segment `segmentId`.
   * @throws MessageError `INVALID_MESSAGE_ID` when either is outside [0, 2^63-1].
   */
  of(segmentId: bigint, entryId: bigint): SegmentEntryMessageId;
}

// Version 1 of the string form: "v1:<segmentId>:<entryId>" in canonical decimal, e.g. "v1:3:1027".
// Readable in etcd and in logs; Milvus's base64 of a binary struct is neither. See counter-message-id.ts
// for the versioning rule.
const V1_PREFIX = 'v1:';
const EXPECTED = '"v1:<segmentId>:<entryId>", both decimals in [0, 2^63-1] without leading zeros';

class SegmentEntryId implements SegmentEntryMessageId {
  constructor(
    readonly walName: string,
    readonly segmentId: bigint,
    readonly entryId: bigint,
  ) {}

  compare(other: MessageId): -1 | 0 | 1 {
    const o = segmentEntryOf(this, other);
    return sign(this.segmentId - o.segmentId) || sign(this.entryId - o.entryId);
  }

  equals(other: MessageId): boolean {
    return this.compare(other) === 0;
  }

  #text: string | undefined;

  toString(): string {
    // Cached: the WAL stamps the same last-confirmed id's text on many messages in a row.
    return (this.#text ??= `${V1_PREFIX}${this.segmentId}:${this.entryId}`);
  }
}

function segmentEntryOf(self: SegmentEntryId, other: MessageId): SegmentEntryId {
  assertSameWal(self, other);
  if (!(other instanceof SegmentEntryId)) {
    throw new MessageError(
      'WAL_MISMATCH',
      `a ${self.walName} (segment, entry) id cannot be compared with ${String(other)}, an id of another kind`,
      { details: { walName: self.walName } },
    );
  }
  return other;
}

/**
 * A codec for ids that are (segmentId, entryId) pairs, for log-structured backends that roll segments
 * (Woodpecker). Order is lexicographic: segment first, then entry.
 *
 * String form, version 1: `v1:<segmentId>:<entryId>`, canonical decimals, e.g. `v1:0:0`, `v1:3:1027`.
 * @throws MessageError `INVALID_MESSAGE_ID` when `walName` is not a valid WAL name.
 */
export function segmentEntryMessageIdCodec(walName: string): SegmentEntryMessageIdCodec {
  checkWalName(walName);
  return Object.freeze({
    walName,
    of(segmentId: bigint, entryId: bigint): SegmentEntryMessageId {
      checkIdComponent(segmentId, 'segmentId', walName);
      checkIdComponent(entryId, 'entryId', walName);
      return new SegmentEntryId(walName, segmentId, entryId);
    },
    parse(text: string): SegmentEntryMessageId {
      const parts =
        typeof text === 'string' && text.startsWith(V1_PREFIX) ? text.slice(V1_PREFIX.length).split(':') : [];
      const segmentId = parts.length === 2 ? parseIdComponent(parts[0] ?? '') : undefined;
      const entryId = parts.length === 2 ? parseIdComponent(parts[1] ?? '') : undefined;
      if (segmentId === undefined || entryId === undefined) throw invalidIdString(walName, String(text), EXPECTED);
      return new SegmentEntryId(walName, segmentId, entryId);
    },
  });
}
