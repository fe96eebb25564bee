/**
 * @streamsvc/message — the message model of streamsvc: message types and their typed headers and bodies,
 * system properties, mutable / immutable / transaction / broadcast messages, the MessageId codec SPI,
 * channel naming and the binary encoding (generated protobuf, `streamsvc.message.v1`).
 *
 * ```ts
 * import { MessageBuilder, encodeMessage, decodeMessage } from '@streamsvc/message';
 * const msg = MessageBuilder.data(new TextEncoder().encode('hello')).vchannel('by-dev-dml_0_449v0').build();
 * const same = decodeMessage(encodeMessage(msg));
 * ```
 */
export { MessageError, MessageErrorCode } from './message-error.js';
export {
  StreamingError,
  StreamingErrorCode,
  STREAMING_ERROR_NUMBERS,
  stripStreamingPrefix,
} from './streaming-error.js';
export {
  MessageType,
  ALL_MESSAGE_TYPES,
  isMessageType,
  messageTypeName,
  parseMessageType,
  isSystemMessageType,
  isSelfControlledMessageType,
  isExclusiveMessageType,
  isTxnBodyMessageType,
} from './message-type.js';
export { isWritableMessageType } from './message-specs.js';
export { DataType, ResourceDomain } from './data-type.js';
export { PropertyKey, MESSAGE_VERSION, isReservedPropertyKey } from './property-keys.js';
export { MessageBuilder, BroadcastMessageBuilder, DEFAULT_MAX_MESSAGE_BYTES } from './message-builder.js';
export { MutableMessage } from './mutable-message.js';
export { ImmutableMessage } from './immutable-message.js';
export { ImmutableTxnMessage } from './txn-message.js';
export { BroadcastMutableMessage } from './broadcast-message.js';
export {
  encodeMessage,
  MessageEncodeScratch,
  decodeMessage,
  decodeBroadcastMessage,
  encodeImmutableMessage,
  encodeImmutableMessageInto,
  decodeImmutableMessage,
} from './encoding.js';
export type { DecodeMessageOptions } from './encoding.js';
export { PayloadArena } from './payload-arena.js';
export { counterMessageIdCodec } from './counter-message-id.js';
export { segmentEntryMessageIdCodec } from './segment-entry-message-id.js';
export { MessageIdCodecs } from './message-id-codecs.js';
export {
  pchannelName,
  parsePChannel,
  vchannelName,
  parseVChannel,
  toPChannel,
  isPChannelName,
  isVChannelName,
} from './channel-names.js';

export type { MessageTypeName } from './message-type.js';
export type {
  MessageShapes,
  WritableMessageType,
  MessageHeader,
  MessageBody,
  HeaderInit,
  BodyInit,
} from './message-specs.js';
export type { UserProperties } from './property-keys.js';
export type { MessageEnvelope } from './message-base.js';
export type { BuildOptions, BroadcastOptions, ResourceKeyInit } from './message-builder.js';
export type { TxnContextInit } from './mutable-message.js';
export type { TxnBodyMessageType, TxnBodyMessage, AnyImmutableMessage } from './txn-message.js';
export type { MessageId, MessageIdCodec } from './message-id.js';
export type { CounterMessageId, CounterMessageIdCodec } from './counter-message-id.js';
export type { SegmentEntryMessageId, SegmentEntryMessageIdCodec } from './segment-entry-message-id.js';
export type { PChannelParts, VChannelParts } from './channel-names.js';
export type { TxnContext, BroadcastHeader, ResourceKey } from './gen/streamsvc/message/v1/envelope.js';
export type { CollectionSchema, FieldSchema } from './gen/streamsvc/message/v1/schema.js';
export type {
  FieldData,
  PrimaryKeys,
  BoolColumn,
  IntColumn,
  LongColumn,
  FloatColumn,
  DoubleColumn,
  StringColumn,
  JsonColumn,
  FloatVectorColumn,
} from './gen/streamsvc/message/v1/field_data.js';
export type {
  TimeTickHeader,
  TimeTickBody,
  PartitionRows,
  InsertHeader,
  InsertBody,
  DeleteHeader,
  DeleteBody,
  FlushHeader,
  FlushBody,
  CreateCollectionHeader,
  CreateCollectionBody,
  DropCollectionHeader,
  DropCollectionBody,
  CreatePartitionHeader,
  CreatePartitionBody,
  DropPartitionHeader,
  DropPartitionBody,
  ManualFlushHeader,
  ManualFlushBody,
  CreateSegmentHeader,
  CreateSegmentBody,
  ImportHeader,
  ImportFile,
  ImportBody,
  SchemaChangeHeader,
  SchemaChangeBody,
  DataHeader,
  BeginTxnHeader,
  BeginTxnBody,
  CommitTxnHeader,
  CommitTxnBody,
  RollbackTxnHeader,
  RollbackTxnBody,
} from './gen/streamsvc/message/v1/messages.js';
