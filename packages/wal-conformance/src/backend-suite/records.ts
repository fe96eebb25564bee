import { MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { MessageId, MutableMessage } from '@streamsvc/message';

/** The user property carrying a record's unique key within its pchannel (Milvus: `id`). */
export const KEY_PROPERTY = 'id';
/** A user property with the same value on every record (Milvus: `const`). */
export const CONST_PROPERTY = 'const';
/** The user property of a round's marker (a TimeTick) naming the round, e.g. `term-2` (Milvus: `term`). */
export const MARKER_PROPERTY = 'term';

/**
 * Hands out strictly increasing time ticks for one pchannel. Backends store `_tt` opaquely, so any
 * increasing uint64 will do; a real TSO value keeps logs readable.
 */
export class TimeTickSource {
  #next = 449_000_000_000n << 18n;

  next(): bigint {
    return this.#next++;
  }
}

/** What the WAL would have stamped on a message: backends require `_tt` and a last-confirmed id. */
export interface Stamp {
  readonly timeTick: bigint;
  readonly term: bigint;
  /** The last-confirmed id; undefined stamps the message as its own (`_lcs`, nothing confirmed yet). */
  readonly lastConfirmed: MessageId | undefined;
}

/** A record the suite appended and the id the backend returned: what readers must see. */
export interface WrittenRecord {
  readonly id: MessageId;
  /** The {@link KEY_PROPERTY} value, unique within the pchannel. */
  readonly key: string;
  readonly type: MessageType;
  readonly timeTick: bigint;
  /** The `_lc` stamped on it; undefined when stamped as its own last-confirmed id. */
  readonly lastConfirmed: MessageId | undefined;
  readonly userProperties: ReadonlyMap<string, string>;
  readonly payload: Uint8Array;
}

const encoder = new TextEncoder();

/** The vchannel the suite writes to on `pchannel` (collection 1, shard 0). */
export function suiteVChannel(pchannel: string): string {
  return vchannelName(pchannel, 1n, 0);
}

/** A stamped `Data` record with key `key` and a payload derived from it. */
export function dataMessage(pchannel: string, key: string, stamp: Stamp): MutableMessage {
  const message = MessageBuilder.data(encoder.encode(`payload of ${key}`))
    .vchannel(suiteVChannel(pchannel))
    .properties({ [KEY_PROPERTY]: key, [CONST_PROPERTY]: 'c' })
    .build();
  return applyStamp(message, stamp);
}

/** A stamped TimeTick that ends round `tag`: readers stop when they see it. */
export function markerMessage(pchannel: string, tag: string, stamp: Stamp): MutableMessage {
  const message = MessageBuilder.timeTick()
    .vchannel(suiteVChannel(pchannel))
    .properties({ [KEY_PROPERTY]: `${tag}/marker`, [CONST_PROPERTY]: 'c', [MARKER_PROPERTY]: tag })
    .build();
  return applyStamp(message, stamp);
}

/** True when `message` is the marker of round `tag`. */
export function isMarker(
  message: { readonly type: MessageType; readonly userProperties: ReadonlyMap<string, string> },
  tag: string,
): boolean {
  return message.type === MessageType.TimeTick && message.userProperties.get(MARKER_PROPERTY) === tag;
}

/** What the suite remembers of `message` once the backend stored it at `id`. */
export function writtenRecord(message: MutableMessage, id: MessageId, stamp: Stamp): WrittenRecord {
  return {
    id,
    key: message.userProperties.get(KEY_PROPERTY) ?? '',
    type: message.type,
    timeTick: stamp.timeTick,
    lastConfirmed: stamp.lastConfirmed,
    userProperties: new Map(message.userProperties),
    payload: Uint8Array.from(message.payload),
  };
}

/** `records` sorted by id (the order a log must deliver them in). */
export function sortById<R extends { readonly id: MessageId }>(records: readonly R[]): R[] {
  return [...records].sort((a, b) => a.id.compare(b.id));
}

function applyStamp(message: MutableMessage, stamp: Stamp): MutableMessage {
  message.withTimeTick(stamp.timeTick).withWalTerm(stamp.term);
  return stamp.lastConfirmed === undefined
    ? message.withLastConfirmedSelf()
    : message.withLastConfirmed(stamp.lastConfirmed);
}
