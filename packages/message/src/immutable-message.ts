import type { Internal } from './internal.js';
import { checkInternal, INTERNAL } from './internal.js';
import { MessageBase } from './message-base.js';
import type { MessageEnvelope } from './message-base.js';
import { MessageError } from './message-error.js';
import { assertSameWal } from './message-id.js';
import type { MessageId, MessageIdCodec } from './message-id.js';
import type { WritableMessageType } from './message-specs.js';
import { messageTypeName } from './message-type.js';
import { PropertyKey } from './property-keys.js';
import { encodeBase36 } from './property-values.js';
import { readUint64, validateEnvelope } from './system-properties.js';

/**
 * A message as stored in a WAL: a mutable message plus the {@link MessageId} the backend gave it. Its
 * properties never change. Every immutable message has a time tick and a last-confirmed id.
 */
export class ImmutableMessage<T extends WritableMessageType = WritableMessageType> extends MessageBase<T> {
  /** Where the backend stored this message. */
  readonly id: MessageId;
  /** The time tick (TSO) the WAL assigned (`_tt`). */
  readonly timeTick: bigint;
  /**
   * The resume point for this message (`_lc`, or this message's own id when `_lcs` is set): reading
   * from it and dropping messages with tt below {@link timeTick} loses nothing from this message on.
   */
  readonly lastConfirmed: MessageId;

  /** Not for outside use: immutable messages come from `MutableMessage.intoImmutable` or `fromEnvelope`. */
  constructor(
    token: Internal,
    envelope: {
      payload: Uint8Array;
      props: Map<string, string>;
      type: T;
      timeTick?: bigint | undefined;
      size?: number | undefined;
    },
    id: MessageId,
    lastConfirmed: MessageId,
  ) {
    super(envelope.payload, envelope.props, envelope.type);
    checkInternal(token, 'ImmutableMessage');
    this.knownSize = envelope.size;
    this.id = id;
    this.lastConfirmed = lastConfirmed;
    // `timeTick` is what the mutable message was stamped with (the value behind its `_tt`).
    const tt = envelope.timeTick ?? readUint64(envelope.props, PropertyKey.TimeTick);
    if (tt === undefined) {
      throw new MessageError(
        'INVALID_MESSAGE',
        `${this.typeName} message cannot become immutable without a time tick (_tt); the WAL sets it before appending`,
      );
    }
    this.timeTick = tt;
  }

  /**
   * Rebuilds a stored message from the envelope a backend kept and the id it assigned. The `_lc`
   * property is parsed with `codec`, which must be the codec of `id`'s WAL.
   * @throws MessageError `INVALID_MESSAGE` / `UNKNOWN_MESSAGE_TYPE` / `INVALID_CHANNEL_NAME` for a bad
   *   envelope (including a missing `_tt` or last-confirmed id), `WAL_MISMATCH` when `codec` and `id`
   *   belong to different WALs, `INVALID_MESSAGE_ID` for an unparsable `_lc`.
   */
  static fromEnvelope(envelope: MessageEnvelope, id: MessageId, codec: MessageIdCodec): ImmutableMessage {
    const props = new Map(envelope.properties);
    const type = validateEnvelope(props, 'immutable');
    const lastConfirmed = resolveLastConfirmed(props, id, undefined, codec, messageTypeName(type));
    return new ImmutableMessage(INTERNAL, { payload: envelope.payload, props, type }, id, lastConfirmed);
  }

  /** The WAL backend that stored this message (the id's WAL name). */
  get walName(): string {
    return this.id.walName;
  }

  /** Narrows this message to type `type` when it has that type. */
  is<K extends WritableMessageType>(type: K): this is ImmutableMessage<K> {
    return (this.type as WritableMessageType) === type;
  }
}

/**
 * Resolves the last-confirmed id of a message about to become immutable: its own id for `_lcs`, the id
 * object set in this process, or `_lc` parsed with `codec`.
 * @throws MessageError `INVALID_MESSAGE` when there is none (or `_lc` needs a codec that was not given),
 *   `WAL_MISMATCH` when the ids or the codec belong to different WALs.
 */
export function resolveLastConfirmed(
  props: ReadonlyMap<string, string>,
  id: MessageId,
  known: MessageId | undefined,
  codec: MessageIdCodec | undefined,
  typeName: string,
): MessageId {
  if (props.has(PropertyKey.LastConfirmedSelf)) return id;
  if (known !== undefined) {
    assertSameWal(id, known);
    return known;
  }
  const text = props.get(PropertyKey.LastConfirmed);
  if (text === undefined) {
    throw new MessageError(
      'INVALID_MESSAGE',
      `${typeName} message has no last-confirmed id (_lc or _lcs); the WAL sets one before appending`,
    );
  }
  if (codec === undefined) {
    throw new MessageError(
      'INVALID_MESSAGE',
      `${typeName} message carries _lc as text; pass the wal's MessageIdCodec to parse it`,
    );
  }
  assertSameWal(id, codec);
  return codec.parse(text);
}

/**
 * A copy of `message` stamped with another time tick and last-confirmed id: a txn's body messages take
 * the commit's, so that downstream the whole txn happens at one point in time. Package-internal.
 */
export function restampImmutable<T extends WritableMessageType>(
  message: ImmutableMessage<T>,
  timeTick: bigint,
  lastConfirmed: MessageId,
): ImmutableMessage<T> {
  const props = new Map(message.properties);
  props.set(PropertyKey.TimeTick, encodeBase36(timeTick, 'time tick'));
  props.delete(PropertyKey.LastConfirmedSelf);
  props.set(PropertyKey.LastConfirmed, lastConfirmed.toString());
  return new ImmutableMessage(
    INTERNAL,
    { payload: message.payload, props, type: message.type },
    message.id,
    lastConfirmed,
  );
}
