import { BroadcastHeader as BroadcastHeaderPb } from './gen/streamsvc/message/v1/envelope.js';
import type { BroadcastHeader } from './gen/streamsvc/message/v1/envelope.js';
import type { Internal } from './internal.js';
import { checkInternal, INTERNAL } from './internal.js';
import { MessageBase } from './message-base.js';
import type { MessageEnvelope } from './message-base.js';
import { MessageError } from './message-error.js';
import type { WritableMessageType } from './message-specs.js';
import { MutableMessage } from './mutable-message.js';
import { PropertyKey } from './property-keys.js';
import { checkUint64 } from './property-values.js';
import { validateEnvelope, writeProto } from './system-properties.js';

/**
 * A message to append atomically to many vchannels (DDL fanned out by the coordinator's broadcaster).
 * It carries the vchannel list in its broadcast header (`_bh`) instead of one `_vc`, and is never appended
 * as is: {@link splitIntoMutableMessages} makes the per-vchannel copies.
 */
export class BroadcastMutableMessage<T extends WritableMessageType = WritableMessageType> extends MessageBase<T> {
  /** Not for outside use: broadcasts come from `MessageBuilder...broadcast(...)` or {@link fromEnvelope}. */
  constructor(token: Internal, payload: Uint8Array, props: Map<string, string>, type: T) {
    super(payload, props, type);
    checkInternal(token, 'BroadcastMutableMessage');
  }

  /**
   * Rebuilds a broadcast from its envelope (e.g. a persisted broadcast task).
   * @throws MessageError `INVALID_MESSAGE` when the envelope is not a valid broadcast, and the codes of
   *   `MutableMessage.fromEnvelope`.
   */
  static fromEnvelope(envelope: MessageEnvelope): BroadcastMutableMessage {
    const props = new Map(envelope.properties);
    const type = validateEnvelope(props, 'broadcast');
    return new BroadcastMutableMessage(INTERNAL, envelope.payload, props, type);
  }

  /** The broadcast header; always present on a broadcast. */
  override get broadcastHeader(): BroadcastHeader {
    // validateEnvelope and the builder guarantee `_bh` with a vchannel list.
    return super.broadcastHeader as BroadcastHeader;
  }

  /** The target vchannels, in the order given to the builder. */
  get vchannels(): readonly string[] {
    return this.broadcastHeader.vchannels;
  }

  /**
   * Sets the broadcast id, assigned by the coordinator's broadcaster when it persists the task.
   * @throws MessageError `PROPERTY_ALREADY_SET` when the id is already non-zero; `INVALID_MESSAGE` when
   *   `id` is 0 or not a uint64.
   */
  withBroadcastId(id: bigint): this {
    checkUint64(id, 'broadcast id');
    if (id === 0n) throw new MessageError('INVALID_MESSAGE', 'broadcast id 0 means "unassigned"; ids start at 1');
    const header = this.broadcastHeader;
    if (header.broadcastId !== 0n) {
      throw new MessageError(
        'PROPERTY_ALREADY_SET',
        `broadcast id is already set on this ${this.typeName} broadcast (to ${header.broadcastId})`,
        {
          details: { key: PropertyKey.BroadcastHeader },
        },
      );
    }
    this.setProperty(PropertyKey.BroadcastHeader, writeProto(BroadcastHeaderPb, { ...header, broadcastId: id }));
    return this;
  }

  /** Narrows this message to type `type` when it has that type. */
  is<K extends WritableMessageType>(type: K): this is BroadcastMutableMessage<K> {
    return (this.type as WritableMessageType) === type;
  }

  /**
   * One mutable message per target vchannel, in vchannel order: the same payload, the vchannel in `_vc`,
   * and a broadcast header that keeps the broadcast id and resource keys but drops the vchannel list
   * (each copy is about one vchannel; the list would only bloat every copy).
   */
  splitIntoMutableMessages(): MutableMessage<T>[] {
    const header = this.broadcastHeader;
    const perVChannel = writeProto(BroadcastHeaderPb, { ...header, vchannels: [] });
    return header.vchannels.map((vchannel) => {
      const props = new Map(this.props);
      props.set(PropertyKey.BroadcastHeader, perVChannel);
      props.set(PropertyKey.VChannel, vchannel);
      // The payload is shared, not copied: messages never write to their payload.
      return new MutableMessage(INTERNAL, this.payload, props, this.type);
    });
  }
}
