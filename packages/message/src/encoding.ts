import { BinaryWriter } from '@bufbuild/protobuf/wire';

import { BroadcastMutableMessage } from './broadcast-message.js';
import { ImmutableMessage as ImmutableMessagePb, Message as MessagePb } from './gen/streamsvc/message/v1/envelope.js';
import { ImmutableMessage } from './immutable-message.js';
import type { MessageEnvelope } from './message-base.js';
import { MessageError } from './message-error.js';
import type { MessageIdCodec } from './message-id.js';
import { MessageIdCodecs } from './message-id-codecs.js';
import { MutableMessage } from './mutable-message.js';
import { decodeMessageEnvelope } from './envelope-decoder.js';
import { INTERNAL } from './internal.js';
import type { PayloadArena } from './payload-arena.js';
import { validateEnvelope } from './system-properties.js';
import { encodeWithSharedWriter } from './wire-writer.js';

// The binary forms, via the generated protobuf: `Message { payload, properties }` for messages without
// an id (what producers send, what a broadcast task persists) and `ImmutableMessage { message_id,
// wal_name, payload, properties }` for stored ones (what consumers receive). Decoding copies the payload
// out of the input (the generated code does) so a decoded message never pins a larger buffer, such as a
// whole block read from disk, for as long as it sits in a cache.

/** Encodes a mutable (or broadcast) message, or any envelope, as `streamsvc.message.v1.Message` bytes. */
export function encodeMessage(message: MessageEnvelope): Uint8Array {
  // The generated encoder only iterates the properties, so the message's own map is passed as is.
  return encodeWithSharedWriter(MessagePb.encode, {
    payload: asBuffer(message.payload),
    properties: message.properties as Map<string, string>,
  });
}

/** A scratch writer that grew past this is dropped on reset, so one burst does not stay allocated. */
const MAX_KEPT_SCRATCH_BYTES = 4 * 1024 * 1024;

/**
 * Encodes messages as `streamsvc.message.v1.Message` bytes (the bytes of {@link encodeMessage}) one
 * after the other into one buffer that is reused after {@link reset}: for a caller that copies the
 * bytes on soon (a producer into its request) and so needs no buffer of their own per message, whose
 * allocation and collection cost more than the encoding for large payloads.
 */
export class MessageEncodeScratch {
  #writer = new BinaryWriter();

  /**
   * Encodes `message` after the ones before it.
   * @returns a view of its bytes, valid until the next {@link reset} (the buffer may grow meanwhile:
   *   views from before keep the old one, which nothing writes to anymore).
   */
  encode(message: MessageEnvelope): Uint8Array {
    const writer = this.#writer;
    const fields = writer as unknown as WriterFields;
    const start = fields.pos;
    try {
      MessagePb.encode(
        // The generated encoder only iterates the properties, so the message's own map is passed as is.
        { payload: asBuffer(message.payload), properties: message.properties as Map<string, string> },
        writer,
      );
    } catch (e) {
      // Drop what a failed encode wrote; the messages before it stay as they are.
      fields.pos = start;
      fields.stackPos = [];
      throw e;
    }
    return fields.buffer.subarray(start, fields.pos);
  }

  /** Reuses the buffer from its start: views from before become invalid. */
  reset(): void {
    const fields = this.#writer as unknown as WriterFields;
    if (fields.buffer.byteLength > MAX_KEPT_SCRATCH_BYTES) {
      this.#writer = new BinaryWriter();
    } else {
      fields.pos = 0;
      fields.stackPos = [];
    }
  }
}

/**
 * The BinaryWriter fields the scratch reads and rewinds, as `wire-writer.ts` does: the version of
 * @bufbuild/protobuf is pinned in the catalog, and the tests of the scratch cover this path.
 */
interface WriterFields {
  buffer: Uint8Array;
  pos: number;
  stackPos: number[];
}

/** Options of {@link decodeMessage}. */
export interface DecodeMessageOptions {
  /**
   * Copy the payload into this arena, shared by the messages decoded with it (the messages of one
   * produce request), instead of into a buffer of its own.
   */
  readonly arena?: PayloadArena | undefined;
}

/**
 * Decodes `Message` bytes into a mutable message. The payload is copied out of `bytes`.
 * @throws MessageError `INVALID_MESSAGE` for bytes that are not a valid message (including a broadcast:
 *   use {@link decodeBroadcastMessage}), and the codes of `MutableMessage.fromEnvelope`.
 */
export function decodeMessage(bytes: Uint8Array, options: DecodeMessageOptions = {}): MutableMessage {
  // The decoded map is this message's own, so it is not copied as fromEnvelope would.
  const { payload, properties } = protoDecode(() => decodeMessageEnvelope(bytes, options.arena));
  return new MutableMessage(INTERNAL, payload, properties, validateEnvelope(properties, 'mutable'));
}

/**
 * Decodes `Message` bytes holding a broadcast.
 * @throws MessageError `INVALID_MESSAGE` when the bytes are corrupt or not a broadcast.
 */
export function decodeBroadcastMessage(bytes: Uint8Array): BroadcastMutableMessage {
  return BroadcastMutableMessage.fromEnvelope(decodeEnvelope(bytes));
}

/** Encodes a stored message with its id and WAL name as `streamsvc.message.v1.ImmutableMessage` bytes. */
export function encodeImmutableMessage(message: ImmutableMessage): Uint8Array {
  return encodeWithSharedWriter(ImmutableMessagePb.encode, immutableFields(message));
}

/**
 * Writes a stored message's `streamsvc.message.v1.ImmutableMessage` fields into `writer`, without a
 * length prefix: what {@link encodeImmutableMessage} returns, for a caller that embeds the message in
 * a larger protobuf message (wrap it in `fork()`/`join()`) and so saves encoding it to bytes of its
 * own first and then copying them.
 */
export function encodeImmutableMessageInto(message: ImmutableMessage, writer: BinaryWriter): void {
  ImmutableMessagePb.encode(immutableFields(message), writer);
}

function immutableFields(message: ImmutableMessage): ImmutableMessagePb {
  return {
    messageId: message.id.toString(),
    walName: message.id.walName,
    payload: asBuffer(message.payload),
    // The generated encoder only iterates the properties, so the message's own map is passed as is.
    properties: message.properties as Map<string, string>,
  };
}

/**
 * Decodes `ImmutableMessage` bytes, parsing the id and `_lc` with the codec of the WAL named in them.
 * @throws MessageError `INVALID_MESSAGE` for corrupt bytes or envelope; `UNKNOWN_WAL_NAME` when no codec
 *   handles the WAL; `WAL_MISMATCH` when a single `codecs` is given for another WAL; `INVALID_MESSAGE_ID`
 *   for an unparsable id.
 */
export function decodeImmutableMessage(bytes: Uint8Array, codecs: MessageIdCodecs | MessageIdCodec): ImmutableMessage {
  const decoded = protoDecode(() => ImmutableMessagePb.decode(bytes));
  const codec = codecs instanceof MessageIdCodecs ? codecs.get(decoded.walName) : codecs;
  if (codec.walName !== decoded.walName) {
    throw new MessageError(
      'WAL_MISMATCH',
      `message bytes come from wal "${decoded.walName}" but the codec is for wal "${codec.walName}"`,
      {
        details: { left: decoded.walName, right: codec.walName },
      },
    );
  }
  const id = codec.parse(decoded.messageId);
  return ImmutableMessage.fromEnvelope(decoded, id, codec);
}

function decodeEnvelope(bytes: Uint8Array): MessageEnvelope {
  return protoDecode(() => MessagePb.decode(bytes));
}

function protoDecode<V>(decode: () => V): V {
  try {
    return decode();
  } catch (cause) {
    // The protobuf reader throws RangeError/Error on truncated or malformed input; report it as ours.
    throw new MessageError('INVALID_MESSAGE', `message bytes are not a valid protobuf envelope: ${String(cause)}`, {
      cause,
    });
  }
}

// env=node generated types want Buffer; a view over the same memory avoids a copy.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
