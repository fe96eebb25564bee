import { MessageError } from './message-error.js';

/**
 * The system property keys. Every key starting with `_` is reserved for them; users cannot set one.
 * The value encodings are chosen so that a property map is a plain `Map<string, string>` every backend
 * can store natively (Kafka headers, Pulsar properties, Woodpecker entry properties):
 *
 * | key | meaning | encoding | set |
 * |---|---|---|---|
 * | `_v` | envelope version ({@link MESSAGE_VERSION}) | decimal | by the builder |
 * | `_t` | message type number | decimal | by the builder |
 * | `_h` | typed header | base64 (standard, padded) of the header's protobuf bytes | by the builder; the WAL may overwrite it |
 * | `_vc` | vchannel; absent = every vchannel of the pchannel | raw name | by the builder / broadcast split |
 * | `_tt` | time tick (TSO) | base36 of the unsigned 64-bit value, lowercase | once, by the WAL |
 * | `_wt` | WAL term the message was appended under | base36 | once, by the WAL |
 * | `_btt` | barrier tt: the WAL must assign a tt strictly greater | base36 | once |
 * | `_lc` | last-confirmed message id | the id's stable string form (`MessageId.toString()`) | once, by the WAL |
 * | `_lcs` | flag: last-confirmed is this message's own id | empty string | once; excludes `_lc` |
 * | `_tx` | transaction context | base64 of `TxnContext` protobuf | once |
 * | `_bh` | broadcast header | base64 of `BroadcastHeader` protobuf | by the builder; id once |
 * | `_np` | flag: not persisted (an in-memory TimeTick) | empty string | once |
 *
 * base36 and base64 follow Milvus 2.6: base36 keeps the hot `_tt` short (13 characters for any 64-bit
 * value) and base64 carries binary protobuf through string-only property stores.
 */
export const PropertyKey = {
  Version: '_v',
  MessageType: '_t',
  Header: '_h',
  VChannel: '_vc',
  TimeTick: '_tt',
  WalTerm: '_wt',
  BarrierTimeTick: '_btt',
  LastConfirmed: '_lc',
  LastConfirmedSelf: '_lcs',
  TxnContext: '_tx',
  BroadcastHeader: '_bh',
  NotPersisted: '_np',
} as const;

/** One of the {@link PropertyKey} values. */
export type PropertyKey = (typeof PropertyKey)[keyof typeof PropertyKey];

/**
 * The envelope version written to `_v`. Version 1 = properties as documented on {@link PropertyKey},
 * header and body from `streamsvc.message.v1`. Decoding rejects other versions rather than guessing.
 */
export const MESSAGE_VERSION = 1;

const RESERVED_PREFIX = '_';

/** True when `key` is reserved for the system (starts with `_`). */
export function isReservedPropertyKey(key: string): boolean {
  return key.startsWith(RESERVED_PREFIX);
}

/** User properties as accepted by the builder: a plain object or a map of strings. */
export type UserProperties = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/**
 * Validates user properties and returns them as entries in insertion order.
 * @throws MessageError `RESERVED_PROPERTY` for a key starting with `_`; `INVALID_MESSAGE` for an empty key
 *   or a value that is not a string (JavaScript callers can pass anything).
 */
export function checkUserProperties(properties: UserProperties): [string, string][] {
  const entries: [string, string][] =
    properties instanceof Map ? [...properties.entries()] : Object.entries(properties as Record<string, string>);
  for (const [key, value] of entries) {
    if (isReservedPropertyKey(key)) {
      throw new MessageError(
        'RESERVED_PROPERTY',
        `user property ${JSON.stringify(key)} starts with "_", which is reserved for system properties`,
        { details: { key } },
      );
    }
    if (key === '') throw new MessageError('INVALID_MESSAGE', 'user property keys must not be empty');
    if (typeof value !== 'string') {
      throw new MessageError(
        'INVALID_MESSAGE',
        `user property ${JSON.stringify(key)} must be a string, got ${typeof value}`,
        {
          details: { key },
        },
      );
    }
  }
  return entries;
}
