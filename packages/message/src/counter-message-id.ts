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

/** A message id that is one 64-bit offset (memory and Kafka backends). */
export interface CounterMessageId extends MessageId {
  /** The backend offset, in [0, 2^63-1]. */
  readonly offset: bigint;
}

/** The codec of {@link CounterMessageId}s of one WAL name. */
export interface CounterMessageIdCodec extends MessageIdCodec<CounterMessageId> {
  /**
   * The id at `offset`.
   * @throws MessageError `INVALID_MESSAGE_ID` when `offset` is outside [0, 2^63-1].
   */
  of(offset: bigint): CounterMessageId;
}

// Version 1 of the string form: "v1:" + canonical decimal offset, e.g. "v1:42". Decimal, not base36,
// because operators read these in etcd next to Kafka tooling that prints decimal offsets. The version
// prefix lets a later format coexist: parse keeps accepting "v1:" forever.
const V1_PREFIX = 'v1:';
const EXPECTED = '"v1:<offset>", offset a decimal in [0, 2^63-1] without leading zeros';

class CounterId implements CounterMessageId {
  constructor(
    readonly walName: string,
    readonly offset: bigint,
  ) {}

  compare(other: MessageId): -1 | 0 | 1 {
    return sign(this.offset - counterOf(this, other).offset);
  }

  equals(other: MessageId): boolean {
    return this.compare(other) === 0;
  }

  #text: string | undefined;

  toString(): string {
    // Cached: the WAL stamps the same last-confirmed id's text on many messages in a row.
    return (this.#text ??= `${V1_PREFIX}${this.offset}`);
  }
}

function counterOf(self: CounterId, other: MessageId): CounterId {
  assertSameWal(self, other);
  if (!(other instanceof CounterId)) {
    throw new MessageError(
      'WAL_MISMATCH',
      `a ${self.walName} counter id cannot be compared with ${String(other)}, an id of another kind`,
      {
        details: { walName: self.walName },
      },
    );
  }
  return other;
}

/**
 * A codec for ids that are a single offset, for backends that number records 0, 1, 2, ... (the memory
 * backend, Kafka partition offsets).
 *
 * String form, version 1: `v1:<offset>` with the offset in canonical decimal, e.g. `v1:0`, `v1:42`.
 * @throws MessageError `INVALID_MESSAGE_ID` when `walName` is not a valid WAL name.
 */
export function counterMessageIdCodec(walName: string): CounterMessageIdCodec {
  checkWalName(walName);
  return Object.freeze({
    walName,
    of(offset: bigint): CounterMessageId {
      checkIdComponent(offset, 'offset', walName);
      return new CounterId(walName, offset);
    },
    parse(text: string): CounterMessageId {
      const offset =
        typeof text === 'string' && text.startsWith(V1_PREFIX)
          ? parseIdComponent(text.slice(V1_PREFIX.length))
          : undefined;
      if (offset === undefined) throw invalidIdString(walName, String(text), EXPECTED);
      return new CounterId(walName, offset);
    },
  });
}
