import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as pb from './gen/streamsvc/message/v1/messages.js';
import type { DeepPartial } from './gen/streamsvc/message/v1/messages.js';
import { MessageType } from './message-type.js';
import { encodeWithSharedWriter } from './wire-writer.js';
import { validateCollectionSchema, validateDelete, validateInsert } from './message-validation.js';

/**
 * The header and body type of every message type that can be written. `Txn` is missing on purpose: it
 * is only ever assembled by readers (see `ImmutableTxnMessage`). `Data`'s body is the user's bytes.
 */
export interface MessageShapes {
  [MessageType.TimeTick]: { header: pb.TimeTickHeader; body: pb.TimeTickBody };
  [MessageType.Insert]: { header: pb.InsertHeader; body: pb.InsertBody };
  [MessageType.Delete]: { header: pb.DeleteHeader; body: pb.DeleteBody };
  [MessageType.Flush]: { header: pb.FlushHeader; body: pb.FlushBody };
  [MessageType.CreateCollection]: { header: pb.CreateCollectionHeader; body: pb.CreateCollectionBody };
  [MessageType.DropCollection]: { header: pb.DropCollectionHeader; body: pb.DropCollectionBody };
  [MessageType.CreatePartition]: { header: pb.CreatePartitionHeader; body: pb.CreatePartitionBody };
  [MessageType.DropPartition]: { header: pb.DropPartitionHeader; body: pb.DropPartitionBody };
  [MessageType.ManualFlush]: { header: pb.ManualFlushHeader; body: pb.ManualFlushBody };
  [MessageType.CreateSegment]: { header: pb.CreateSegmentHeader; body: pb.CreateSegmentBody };
  [MessageType.Import]: { header: pb.ImportHeader; body: pb.ImportBody };
  [MessageType.SchemaChange]: { header: pb.SchemaChangeHeader; body: pb.SchemaChangeBody };
  [MessageType.Data]: { header: pb.DataHeader; body: Uint8Array };
  [MessageType.BeginTxn]: { header: pb.BeginTxnHeader; body: pb.BeginTxnBody };
  [MessageType.CommitTxn]: { header: pb.CommitTxnHeader; body: pb.CommitTxnBody };
  [MessageType.RollbackTxn]: { header: pb.RollbackTxnHeader; body: pb.RollbackTxnBody };
}

/** Every message type a builder can produce (all but `Txn`). */
export type WritableMessageType = keyof MessageShapes;

/** The decoded header of messages of type `T`. */
export type MessageHeader<T extends WritableMessageType> = MessageShapes[T]['header'];

/** The decoded body of messages of type `T` (`Uint8Array` for `Data`). */
export type MessageBody<T extends WritableMessageType> = MessageShapes[T]['body'];

/**
 * What a builder accepts as a header: any subset of the fields (proto3: absent = zero), 64-bit fields as
 * bigint, number or decimal string.
 */
export type HeaderInit<T extends WritableMessageType> = DeepPartial<MessageHeader<T>>;

/** What a builder accepts as a body, like {@link HeaderInit}; for `Data`, the user's bytes. */
export type BodyInit<T extends WritableMessageType> = DeepPartial<MessageBody<T>>;

/** How one part (header or body) of a type is normalised, encoded and decoded. */
export interface PartCodec<V, I> {
  /** Fills defaults and coerces 64-bit inputs; throws on values the type cannot hold. */
  normalize(init: I): V;
  encode(value: V): Uint8Array;
  decode(bytes: Uint8Array): V;
}

/** The per-type facts the builders and messages need. */
export interface MessageSpec<T extends WritableMessageType> {
  readonly header: PartCodec<MessageHeader<T>, HeaderInit<T>>;
  readonly body: PartCodec<MessageBody<T>, BodyInit<T>>;
  /** Whether a builder may omit the header (its proto has no fields worth setting). */
  readonly headerOptional: boolean;
  /** Whether a builder may omit the body. */
  readonly bodyOptional: boolean;
  /** Cross-field checks; returns a description of the first problem, or undefined. */
  readonly validate?: (header: MessageHeader<T>, body: MessageBody<T>) => string | undefined;
}

interface ProtoFns<V> {
  encode(message: V, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array): V;
  fromPartial(object: never): V;
}

function proto<V>(fns: ProtoFns<V>): PartCodec<V, DeepPartial<V>> {
  return {
    // fromPartial's Exact<> generic cannot be satisfied by an abstract DeepPartial<V>; the concrete
    // call sites are type-checked by HeaderInit/BodyInit instead.
    normalize: (init) => fns.fromPartial(init as never),
    encode: (value) => encodeWithSharedWriter(fns.encode, value),
    decode: (bytes) => fns.decode(bytes),
  };
}

// Data bodies are the user's bytes: no protobuf, no copy on the way in (the builder owns nothing the
// caller could later mutate, because the envelope is encoded from these bytes only once at build).
const rawBytes: PartCodec<Uint8Array, Uint8Array> = {
  normalize: (init) => {
    if (!(init instanceof Uint8Array)) throw new TypeError(`expected a Uint8Array, got ${typeof init}`);
    return init;
  },
  encode: (value) => value,
  decode: (bytes) => bytes,
};

const spec = <T extends WritableMessageType>(s: MessageSpec<T>): MessageSpec<T> => s;

const SPECS: { readonly [T in WritableMessageType]: MessageSpec<T> } = {
  [MessageType.TimeTick]: spec({
    header: proto(pb.TimeTickHeader),
    body: proto(pb.TimeTickBody),
    headerOptional: true,
    bodyOptional: true,
  }),
  [MessageType.Insert]: spec({
    header: proto(pb.InsertHeader),
    body: proto(pb.InsertBody),
    headerOptional: false,
    bodyOptional: false,
    validate: validateInsert,
  }),
  [MessageType.Delete]: spec({
    header: proto(pb.DeleteHeader),
    body: proto(pb.DeleteBody),
    headerOptional: false,
    bodyOptional: false,
    validate: validateDelete,
  }),
  [MessageType.Flush]: spec({
    header: proto(pb.FlushHeader),
    body: proto(pb.FlushBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.CreateCollection]: spec({
    header: proto(pb.CreateCollectionHeader),
    body: proto(pb.CreateCollectionBody),
    headerOptional: false,
    bodyOptional: false,
    validate: (h, b) =>
      b.partitionNames.length !== 0 && b.partitionNames.length !== h.partitionIds.length
        ? `CreateCollection names ${b.partitionNames.length} partitions but its header lists ${h.partitionIds.length} partition ids`
        : validateCollectionSchema(b.schema),
  }),
  [MessageType.DropCollection]: spec({
    header: proto(pb.DropCollectionHeader),
    body: proto(pb.DropCollectionBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.CreatePartition]: spec({
    header: proto(pb.CreatePartitionHeader),
    body: proto(pb.CreatePartitionBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.DropPartition]: spec({
    header: proto(pb.DropPartitionHeader),
    body: proto(pb.DropPartitionBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.ManualFlush]: spec({
    header: proto(pb.ManualFlushHeader),
    body: proto(pb.ManualFlushBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.CreateSegment]: spec({
    header: proto(pb.CreateSegmentHeader),
    body: proto(pb.CreateSegmentBody),
    headerOptional: false,
    bodyOptional: true,
  }),
  [MessageType.Import]: spec({
    header: proto(pb.ImportHeader),
    body: proto(pb.ImportBody),
    headerOptional: false,
    bodyOptional: false,
  }),
  [MessageType.SchemaChange]: spec({
    header: proto(pb.SchemaChangeHeader),
    body: proto(pb.SchemaChangeBody),
    headerOptional: false,
    bodyOptional: false,
    validate: (_h, b) => validateCollectionSchema(b.schema),
  }),
  [MessageType.Data]: spec({ header: proto(pb.DataHeader), body: rawBytes, headerOptional: true, bodyOptional: false }),
  [MessageType.BeginTxn]: spec({
    header: proto(pb.BeginTxnHeader),
    body: proto(pb.BeginTxnBody),
    headerOptional: true,
    bodyOptional: true,
  }),
  [MessageType.CommitTxn]: spec({
    header: proto(pb.CommitTxnHeader),
    body: proto(pb.CommitTxnBody),
    headerOptional: true,
    bodyOptional: true,
  }),
  [MessageType.RollbackTxn]: spec({
    header: proto(pb.RollbackTxnHeader),
    body: proto(pb.RollbackTxnBody),
    headerOptional: true,
    bodyOptional: true,
  }),
};

/** True when messages of `type` can be written (every known type but `Txn`). */
export function isWritableMessageType(type: MessageType): type is WritableMessageType {
  return Object.hasOwn(SPECS, type);
}

/** The spec of a writable type. */
export function specOf<T extends WritableMessageType>(type: T): MessageSpec<T> {
  return SPECS[type];
}
