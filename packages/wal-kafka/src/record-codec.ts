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
  const props = message.properties;
  if (!props.has(PropertyKey.TimeTick)) throw unstorable(pchannel, 'it has no time tick (_tt)');
  if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
    throw unstorable(pchannel, 'it has no last-confirmed id (_lc or _lcs)');
  }
  if (props.size > 0xffff) throw unstorable(pchannel, `${props.size} properties, at most 65535`);
  // One allocation, sized for the worst case (3 UTF-8 bytes per UTF-16 unit), and the strings written
  // straight into it, ASCII by hand: properties are short, and a native call per string (or a Buffer,
  // as this used to make two per property) cost more than the characters.
  let bound = 3 + 6 * props.size + message.payload.byteLength;
  for (const [key, value] of props) bound += 3 * (key.length + value.length);
  const out = Buffer.allocUnsafe(bound);
  out[0] = RECORD_FORMAT;
  out.writeUInt16LE(props.size, 1);
  let at = 3;
  let offset = 3 + 6 * props.size;
  for (const [key, value] of props) {
    const keyEnd = writeUtf8(out, key, offset);
    if (keyEnd - offset > 0xffff) throw unstorable(pchannel, `a property key of ${keyEnd - offset} bytes`);
    const valueEnd = writeUtf8(out, value, keyEnd);
    out.writeUInt16LE(keyEnd - offset, at);
    out.writeUInt32LE(valueEnd - keyEnd, at + 2);
    at += 6;
    offset = valueEnd;
  }
  const size = offset + message.payload.byteLength;
  if (size > maxBytes) {
    throw unstorable(pchannel, `it encodes to ${size} bytes, more than maxMessageBytes (${maxBytes})`);
  }
  out.set(message.payload, offset);
  return out.subarray(0, size);
}

function unstorable(pchannel: string, why: string): WalError {
  return new WalError(
    WalErrorCode.INVALID_ARGUMENT,
    `append on pchannel "${pchannel}": the message cannot be stored: ${why}`,
  );
}

/** Writes `text` as UTF-8 at `at` (room for 3 bytes per UTF-16 unit) and returns where it ends. */
function writeUtf8(out: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Past the first non-ASCII unit the rest goes to Node's encoder (surrogate pairs, replacement chars).
    if (c >= 0x80) return at + i + out.write(text.slice(i), at + i, 'utf8');
    out[at + i] = c;
  }
  return at + text.length;
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
