import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import { parseVChannel } from './channel-names.js';
import {
  BroadcastHeader as BroadcastHeaderPb,
  TxnContext as TxnContextPb,
} from './gen/streamsvc/message/v1/envelope.js';
import type { BroadcastHeader, TxnContext } from './gen/streamsvc/message/v1/envelope.js';
import { MessageError } from './message-error.js';
import { encodeWithSharedWriter } from './wire-writer.js';
import { isWritableMessageType, specOf } from './message-specs.js';
import type { WritableMessageType } from './message-specs.js';
import { MessageType, messageTypeName, parseMessageType } from './message-type.js';
import { MESSAGE_VERSION, PropertyKey } from './property-keys.js';
import { decodeBase36, decodeBase64, encodeBase64 } from './property-values.js';

// Typed reads of the system properties, shared by every message class, and the one validation that
// every envelope from outside (bytes, a backend's record) passes before it becomes a message object.

type Props = ReadonlyMap<string, string>;

const WHAT: Readonly<Record<string, string>> = {
  [PropertyKey.TimeTick]: 'time tick (_tt)',
  [PropertyKey.WalTerm]: 'wal term (_wt)',
  [PropertyKey.BarrierTimeTick]: 'barrier time tick (_btt)',
  [PropertyKey.TxnContext]: 'txn context (_tx)',
  [PropertyKey.BroadcastHeader]: 'broadcast header (_bh)',
  [PropertyKey.Header]: 'header (_h)',
};

/** Human name of a system property for error texts, e.g. `time tick (_tt)`. */
export function describeKey(key: string): string {
  return WHAT[key] ?? key;
}

/** Reads a base36 uint64 property (`_tt`, `_wt`, `_btt`); undefined when absent. */
export function readUint64(props: Props, key: string): bigint | undefined {
  const text = props.get(key);
  return text === undefined ? undefined : decodeBase36(text, describeKey(key));
}

interface Decoder<V> {
  decode(input: Uint8Array): V;
}

/** Reads a base64 protobuf property (`_tx`, `_bh`, `_h`); undefined when absent. */
export function readProto<V>(props: Props, key: string, fns: Decoder<V>): V | undefined {
  const text = props.get(key);
  if (text === undefined) return undefined;
  const bytes = decodeBase64(text, describeKey(key));
  try {
    return fns.decode(bytes);
  } catch (cause) {
    throw new MessageError('INVALID_MESSAGE', `${describeKey(key)} holds corrupt protobuf bytes`, { cause });
  }
}

/** Encodes a protobuf value for a base64 property. */
export function writeProto<V>(fns: { encode(v: V): BinaryWriter }, value: V): string {
  return encodeBase64(encodeWithSharedWriter(fns.encode, value));
}

/** The transaction context of a message, when it has one. */
export function readTxnContext(props: Props): TxnContext | undefined {
  return readProto(props, PropertyKey.TxnContext, TxnContextPb);
}

/** The broadcast header of a message, when it has one. */
export function readBroadcastHeader(props: Props): BroadcastHeader | undefined {
  return readProto(props, PropertyKey.BroadcastHeader, BroadcastHeaderPb);
}

/** What shape an envelope must have to become a particular message class. */
export type EnvelopeKind = 'mutable' | 'broadcast' | 'immutable';

/**
 * Validates the system properties of an envelope that came from outside and returns its type.
 * Checks the version, the type, the header (decoded once here so a corrupt one fails now, not later on
 * some reader), the vchannel, and every set-once property that is present.
 * @throws MessageError `INVALID_MESSAGE`, `UNKNOWN_MESSAGE_TYPE` or `INVALID_CHANNEL_NAME`, naming the
 *   property that is wrong.
 */
export function validateEnvelope(props: Props, kind: EnvelopeKind): WritableMessageType {
  const version = props.get(PropertyKey.Version);
  if (version === undefined) throw invalid('has no version (_v)');
  if (version !== VERSION_TEXT) {
    throw invalid(`has version (_v) ${JSON.stringify(version)}; this library reads version ${MESSAGE_VERSION}`);
  }
  const typeText = props.get(PropertyKey.MessageType);
  if (typeText === undefined) throw invalid('has no type (_t)');
  const type = parseMessageType(typeText);
  if (!isWritableMessageType(type)) throw invalid('has type Txn, which is assembled by readers and never stored');
  const name = messageTypeName(type);
  if (!props.has(PropertyKey.Header)) throw invalid(`${name} message has no header (_h)`);
  const spec = specOf(type);
  // An empty header (every Data message, most ticks) is the all-defaults message: nothing to check, and
  // decoding it would build a protobuf reader per message on every produce request and read.
  if (props.get(PropertyKey.Header) !== '') {
    readProto(props, PropertyKey.Header, { decode: (b: Uint8Array) => spec.header.decode(b) });
  }

  const vchannel = props.get(PropertyKey.VChannel);
  if (vchannel !== undefined) parseVChannel(vchannel);
  const broadcast = readBroadcastHeader(props);
  const isBroadcast = broadcast !== undefined && broadcast.vchannels.length > 0;
  if (kind === 'broadcast') {
    if (!isBroadcast) throw invalid(`${name} message is not a broadcast (no vchannel list in _bh)`);
    if (vchannel !== undefined) throw invalid(`broadcast ${name} message also names vchannel ${vchannel}`);
    for (const v of broadcast.vchannels) parseVChannel(v);
  } else {
    if (isBroadcast) throw invalid(`${name} message is a broadcast; split it before appending`);
    if (vchannel === undefined && type !== MessageType.TimeTick) throw invalid(`${name} message has no vchannel (_vc)`);
  }

  for (const key of UINT64_KEYS) readUint64(props, key);
  readTxnContext(props);
  if (props.has(PropertyKey.LastConfirmed) && props.has(PropertyKey.LastConfirmedSelf)) {
    throw invalid(`${name} message has both _lc and _lcs`);
  }
  for (const key of FLAG_KEYS) {
    const flag = props.get(key);
    if (flag !== undefined && flag !== '') throw invalid(`flag ${key} must be empty, got ${JSON.stringify(flag)}`);
  }
  if (kind === 'immutable' && !props.has(PropertyKey.TimeTick)) throw invalid(`${name} message has no time tick (_tt)`);
  return type;
}

const VERSION_TEXT = String(MESSAGE_VERSION);
const UINT64_KEYS = [PropertyKey.TimeTick, PropertyKey.WalTerm, PropertyKey.BarrierTimeTick] as const;
const FLAG_KEYS = [PropertyKey.LastConfirmedSelf, PropertyKey.NotPersisted] as const;

function invalid(problem: string): MessageError {
  return new MessageError('INVALID_MESSAGE', `envelope ${problem}`);
}
