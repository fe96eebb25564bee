import { MessageError } from './message-error.js';

/**
 * The message types and their numbers (stored in `_t` as a decimal string). The numbers follow Milvus 2.6
 * so logs read the same; `Data` (100) is ours: an opaque user payload, which makes streamsvc a general
 * ordered log too. `proto/streamsvc/message/v1/envelope.proto` lists the same numbers (a test checks).
 */
export const MessageType = {
  TimeTick: 1,
  Insert: 2,
  Delete: 3,
  Flush: 4,
  CreateCollection: 5,
  DropCollection: 6,
  CreatePartition: 7,
  DropPartition: 8,
  ManualFlush: 9,
  CreateSegment: 10,
  Import: 11,
  SchemaChange: 12,
  Data: 100,
  BeginTxn: 900,
  CommitTxn: 901,
  RollbackTxn: 902,
  /** Never written to a WAL: the reader-side assembly of BeginTxn + body messages + CommitTxn. */
  Txn: 999,
} as const;

/** A message type number, one of the {@link MessageType} values. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A message type name, one of the {@link MessageType} keys (`'Insert'`, `'TimeTick'`, ...). */
export type MessageTypeName = keyof typeof MessageType;

const nameByNumber: ReadonlyMap<number, MessageTypeName> = new Map(
  (Object.entries(MessageType) as [MessageTypeName, MessageType][]).map(([name, n]) => [n, name]),
);

const SYSTEM: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
  MessageType.Txn,
]);
const SELF_CONTROLLED: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.CreateSegment,
  MessageType.Flush,
]);
const EXCLUSIVE: ReadonlySet<MessageType> = new Set([
  MessageType.CreateCollection,
  MessageType.DropCollection,
  MessageType.CreatePartition,
  MessageType.DropPartition,
  MessageType.ManualFlush,
  MessageType.SchemaChange,
]);
const TXN_BODY: ReadonlySet<MessageType> = new Set([MessageType.Insert, MessageType.Delete, MessageType.Data]);

/** Every message type, in number order. */
export const ALL_MESSAGE_TYPES: readonly MessageType[] = [...nameByNumber.keys()].sort(
  (a, b) => a - b,
) as MessageType[];

const byDecimal: ReadonlyMap<string, MessageType> = new Map(ALL_MESSAGE_TYPES.map((n) => [String(n), n]));

/** True when `n` is the number of a known message type. */
export function isMessageType(n: unknown): n is MessageType {
  return typeof n === 'number' && nameByNumber.has(n);
}

/**
 * The name of a message type, e.g. `messageTypeName(2) === 'Insert'`.
 * @throws MessageError `UNKNOWN_MESSAGE_TYPE` when `type` is not a known type number.
 */
export function messageTypeName(type: number): MessageTypeName {
  const name = nameByNumber.get(type);
  if (name === undefined) throw unknownType(String(type));
  return name;
}

/**
 * Resolves a type from its number, its decimal string (the `_t` encoding) or its name.
 * @throws MessageError `UNKNOWN_MESSAGE_TYPE` naming the input when it is none of those.
 */
export function parseMessageType(value: number | string): MessageType {
  if (typeof value === 'number') {
    if (isMessageType(value)) return value;
    throw unknownType(String(value));
  }
  // `_t` of every message decoded: the canonical texts are looked up, not parsed.
  const known = byDecimal.get(value);
  if (known !== undefined) return known;
  // Canonical decimal only ("2", not "02" or " 2"): `_t` is written by us and must round-trip exactly.
  if (/^(0|[1-9][0-9]{0,5})$/.test(value)) {
    const n = Number(value);
    if (isMessageType(n)) return n;
  } else if (Object.hasOwn(MessageType, value)) {
    return MessageType[value as MessageTypeName];
  }
  throw unknownType(JSON.stringify(value));
}

/**
 * System types (TimeTick, BeginTxn, CommitTxn, RollbackTxn, Txn) keep the stream's machinery working,
 * so a consumer's type filter never drops them.
 */
export function isSystemMessageType(type: MessageType): boolean {
  return SYSTEM.has(type);
}

/**
 * Self-controlled types (TimeTick, CreateSegment, Flush) are written only by the WAL itself; a client
 * appending one is rejected by the node.
 */
export function isSelfControlledMessageType(type: MessageType): boolean {
  return SELF_CONTROLLED.has(type);
}

/**
 * Exclusive types are DDL that take the vchannel's write lock (and fail its open txns): CreateCollection,
 * DropCollection, CreatePartition, DropPartition, ManualFlush, SchemaChange.
 */
export function isExclusiveMessageType(type: MessageType): boolean {
  return EXCLUSIVE.has(type);
}

/** Types that may be appended inside a transaction (between BeginTxn and CommitTxn): Insert, Delete, Data. */
export function isTxnBodyMessageType(type: MessageType): boolean {
  return TXN_BODY.has(type);
}

function unknownType(shown: string): MessageError {
  return new MessageError('UNKNOWN_MESSAGE_TYPE', `unknown message type ${shown}`, { details: { type: shown } });
}
