import { ImmutableMessage, PropertyKey } from '@streamsvc/message';
import type { MessageEnvelope } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { asBuffer } from './block-codec.js';
import { idOf, woodpeckerMessageIds } from './message-ids.js';

/**
 * Entry bytes, format 1 — the message envelope (properties + payload), length-prefixed:
 *
 * ```
 * u8 format (1)  u16 property count n
 * n × (u16 key length, u32 value length)      in bytes
 * n × (key, value)                             UTF-8, back to back
 * payload: the rest
 * ```
 *
 * Why not `encodeMessage` (the protobuf `Message`): readers decode every entry, and protobuf-es decodes
 * each property string in JavaScript; with ~10 properties per message that was half of a reader's CPU
 * (profiled on the WAL conformance workload). Here reading a string is one native `Buffer.toString`,
 * writing all of them one native call when they are ASCII (they almost always are: keys, base-36
 * numbers, base-64 headers), and the envelope is validated once, by `ImmutableMessage.fromEnvelope`.
 */
export const ENTRY_FORMAT = 1;

// eslint-disable-next-line no-control-regex -- the point is to test for ASCII.
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Encodes a message as entry bytes.
 * @throws {WalError} INVALID_ARGUMENT for a message that could be stored but never read back as an
 *   immutable message (no time tick or no last-confirmed id), or one too large for the format.
 */
export function encodeEntry(message: MessageEnvelope, pchannel: string): Uint8Array {
  const props = message.properties;
  const invalid = (why: string): WalError =>
    new WalError(
      WalErrorCode.INVALID_ARGUMENT,
      `append on pchannel "${pchannel}": the message cannot be stored: ${why}`,
    );
  if (!props.has(PropertyKey.TimeTick)) throw invalid('it has no time tick (_tt)');
  if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
    throw invalid('it has no last-confirmed id (_lc or _lcs)');
  }
  const count = props.size;
  if (count > 0xffff) throw invalid(`${count} properties, at most 65535`);
  let text = '';
  for (const [key, value] of props) text += key + value;
  const ascii = !NON_ASCII.test(text);
  const tableEnd = 3 + 6 * count;
  const out = take(tableEnd + (ascii ? text.length : 3 * text.length) + message.payload.byteLength);
  out[0] = ENTRY_FORMAT;
  out.writeUInt16LE(count, 1);
  let at = 3;
  let offset = tableEnd;
  if (ascii) {
    // Byte lengths are string lengths: one native write for every string at once.
    for (const [key, value] of props) {
      if (key.length > 0xffff) throw invalid(`property key of ${key.length} bytes`);
      out.writeUInt16LE(key.length, at);
      out.writeUInt32LE(value.length, at + 2);
      at += 6;
    }
    offset += out.write(text, tableEnd, 'latin1');
  } else {
    for (const [key, value] of props) {
      const keyLength = out.write(key, offset);
      if (keyLength > 0xffff) throw invalid(`property key of ${keyLength} bytes`);
      const valueLength = out.write(value, offset + keyLength);
      out.writeUInt16LE(keyLength, at);
      out.writeUInt32LE(valueLength, at + 2);
      at += 6;
      offset += keyLength + valueLength;
    }
  }
  out.set(message.payload, offset);
  return commit(out, offset + message.payload.byteLength);
}

// Entries are carved out of 1 MiB slabs: one allocation per thousand small entries instead of one
// each. An entry's bytes are dropped once copied into its block, so a slab lives about as long as
// the blocks it fed.
const SLAB_BYTES = 1024 * 1024;
let slab = Buffer.allocUnsafe(SLAB_BYTES);
let slabUsed = 0;

function take(bound: number): Buffer {
  if (bound > SLAB_BYTES / 4) return Buffer.allocUnsafe(bound);
  if (slabUsed + bound > SLAB_BYTES) {
    slab = Buffer.allocUnsafe(SLAB_BYTES);
    slabUsed = 0;
  }
  return slab.subarray(slabUsed);
}

function commit(out: Buffer, length: number): Uint8Array {
  if (out.buffer === slab.buffer && out.byteOffset === slab.byteOffset + slabUsed) slabUsed += (length + 7) & ~7;
  return out.subarray(0, length);
}

/**
 * Rebuilds the stored message of entry `entryId` of segment `segmentId` from its bytes (already
 * CRC-checked). The payload is copied out, so a message never pins the block it was read from.
 * @throws {WalError} CORRUPT when the bytes do not decode to a valid stored message.
 */
export function decodeEntry(bytes: Uint8Array, pchannel: string, segmentId: number, entryId: number): ImmutableMessage {
  try {
    const b = asBuffer(bytes);
    if (b.readUInt8(0) !== ENTRY_FORMAT) throw new Error(`unknown entry format ${b.readUInt8(0)}`);
    const count = b.readUInt16LE(1);
    const properties = new Map<string, string>();
    let at = 3;
    let offset = 3 + 6 * count;
    for (let i = 0; i < count; i++) {
      const keyEnd = offset + b.readUInt16LE(at);
      const valueEnd = keyEnd + b.readUInt32LE(at + 2);
      if (valueEnd > b.byteLength) throw new Error('a property runs past the entry');
      properties.set(b.toString('utf8', offset, keyEnd), b.toString('utf8', keyEnd, valueEnd));
      at += 6;
      offset = valueEnd;
    }
    const payload = Uint8Array.prototype.slice.call(b, offset);
    return ImmutableMessage.fromEnvelope({ payload, properties }, idOf(segmentId, entryId), woodpeckerMessageIds);
  } catch (cause) {
    throw new WalError(
      WalErrorCode.CORRUPT,
      `pchannel "${pchannel}" segment ${segmentId} entry ${entryId}: the stored bytes pass their CRC but do not decode to a message`,
      { cause, details: { pchannel, segmentId, entryId } },
    );
  }
}
