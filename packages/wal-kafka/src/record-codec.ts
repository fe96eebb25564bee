import { ImmutableMessage, PropertyKey } from '@streamsvc/message';
import type { MessageEnvelope } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { idOf, kafkaMessageIds } from './message-ids.js';

/**
 * Record value, format 1 — the message envelope (properties + payload), length-prefixed:
 *
 * ```
 * u8 format (1)  u16 property count n
 * n × (u16 key length, u32 value length)      in bytes
 * n × (key, value)                             UTF-8, back to back
 * payload: the rest
 * ```
 *
 * Why not `encodeMessage` (the protobuf `Message`) or Milvus's payload-plus-headers: every reader
 * decodes every record, and both protobuf-es and kafkajs's header decoding turn each property into a
 * string in JavaScript — on the WAL conformance workload protobuf decoding alone was a fifth of the
 * process's CPU. Here each string is one native `Buffer.toString`, and the envelope is validated once,
 * by `ImmutableMessage.fromEnvelope`. (The same layout as Woodpecker's entries; a backend may not
 * import another, so it is repeated here.)
 */
export const RECORD_FORMAT = 1;

/**
 * Encodes a message as a record value.
 * @throws {WalError} INVALID_ARGUMENT for a message that could be stored but never read back as an
 *   immutable message (no time tick or no last-confirmed id), or one larger than `maxBytes` encoded.
 */
export function encodeRecord(message: MessageEnvelope, pchannel: string, maxBytes: number): Uint8Array {
  const invalid = (why: string): WalError =>
    new WalError(
      WalErrorCode.INVALID_ARGUMENT,
      `append on pchannel "${pchannel}": the message cannot be stored: ${why}`,
    );
  const props = message.properties;
  if (!props.has(PropertyKey.TimeTick)) throw invalid('it has no time tick (_tt)');
  if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
    throw invalid('it has no last-confirmed id (_lc or _lcs)');
  }
  if (props.size > 0xffff) throw invalid(`${props.size} properties, at most 65535`);
  // Two passes over the map, sizes then bytes, and one allocation: the strings are written straight
  // into the record (an append used to make two Buffers per property; they were a tenth of its CPU).
  let size = 3 + 6 * props.size + message.payload.byteLength;
  for (const [key, value] of props) {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > 0xffff) throw invalid(`a property key of ${keyBytes} bytes`);
    size += keyBytes + Buffer.byteLength(value, 'utf8');
  }
  if (size > maxBytes) throw invalid(`it encodes to ${size} bytes, more than maxMessageBytes (${maxBytes})`);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt8(RECORD_FORMAT, 0);
  out.writeUInt16LE(props.size, 1);
  let at = 3;
  let offset = 3 + 6 * props.size;
  for (const [key, value] of props) {
    // Exact: the sizes above were measured with the same encoding, so nothing is cut short.
    const keyBytes = out.write(key, offset, 'utf8');
    const valueBytes = out.write(value, offset + keyBytes, 'utf8');
    out.writeUInt16LE(keyBytes, at);
    out.writeUInt32LE(valueBytes, at + 2);
    at += 6;
    offset += keyBytes + valueBytes;
  }
  out.set(message.payload, offset);
  return out;
}

/**
 * Rebuilds the message stored at `offset` from its record value. The payload is copied out, so a
 * message never pins the fetch response it came in.
 * @throws {WalError} CORRUPT naming the topic and offset when the value is not a stored message.
 */
export function decodeRecord(value: Uint8Array | null, topic: string, offset: bigint): ImmutableMessage {
  try {
    if (value === null) throw new Error('the record has no value (a tombstone)');
    const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (b.byteLength < 3) throw new Error(`a value of ${b.byteLength} bytes`);
    if (b.readUInt8(0) !== RECORD_FORMAT) throw new Error(`unknown record format ${b.readUInt8(0)}`);
    const count = b.readUInt16LE(1);
    const properties = new Map<string, string>();
    let at = 3;
    let start = 3 + 6 * count;
    if (start > b.byteLength) throw new Error('the property table runs past the value');
    for (let i = 0; i < count; i++) {
      const keyEnd = start + b.readUInt16LE(at);
      const valueEnd = keyEnd + b.readUInt32LE(at + 2);
      if (valueEnd > b.byteLength) throw new Error('a property runs past the value');
      properties.set(b.toString('utf8', start, keyEnd), b.toString('utf8', keyEnd, valueEnd));
      at += 6;
      start = valueEnd;
    }
    const payload = Uint8Array.prototype.slice.call(b, start);
    return ImmutableMessage.fromEnvelope({ payload, properties }, idOf(offset), kafkaMessageIds);
  } catch (cause) {
    throw new WalError(
      WalErrorCode.CORRUPT,
      `topic "${topic}" partition 0 offset ${offset}: the record does not decode to a stored message`,
      { cause, details: { topic, offset: String(offset) } },
    );
  }
}
