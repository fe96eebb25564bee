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
 * writing one is a byte loop when it is short ASCII (they almost always are: keys, base-36 numbers,
 * base-64 headers), and the envelope is validated once, by `ImmutableMessage.fromEnvelope`.
 */
export const ENTRY_FORMAT = 1;

// eslint-disable-next-line no-control-regex -- the point is to test for ASCII.
const NON_ASCII = /[^\u0000-\u007f]/;
// Strings up to this length are checked and copied in a JavaScript loop: cheaper than a native call
// each (a message has ~12 short property strings). Longer ones go through one native scan or write.
const SHORT_STRING = 64;

/**
 * Checks that a message can be stored and returns the byte length of its entry. An append measures
 * here and its entry is written once, straight into its block, when the block is cut
 * ({@link writeEntry}): no per-entry buffer, no second copy. The message must not change in between
 * (the writer keeps a `snapshot()`).
 * @throws {WalError} INVALID_ARGUMENT for a message that could be stored but never read back as an
 *   immutable message (no time tick or no last-confirmed id), or one too large for the format.
 */
export function entryBytes(message: MessageEnvelope, pchannel: string): number {
  const props = message.properties;
  if (!props.has(PropertyKey.TimeTick)) throw unstorable(pchannel, 'it has no time tick (_tt)');
  if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
    throw unstorable(pchannel, 'it has no last-confirmed id (_lc or _lcs)');
  }
  const count = props.size;
  if (count > 0xffff) throw unstorable(pchannel, `${count} properties, at most 65535`);
  let text = 0;
  for (const [key, value] of props) {
    if (!isAscii(key) || !isAscii(value)) return utf8EntryBytes(message, pchannel);
    if (key.length > 0xffff) throw unstorable(pchannel, `property key of ${key.length} bytes`);
    text += key.length + value.length;
  }
  return 3 + 6 * count + text + message.payload.byteLength;
}

function utf8EntryBytes(message: MessageEnvelope, pchannel: string): number {
  let text = 0;
  for (const [key, value] of message.properties) {
    const keyLength = Buffer.byteLength(key, 'utf8');
    if (keyLength > 0xffff) throw unstorable(pchannel, `property key of ${keyLength} bytes`);
    text += keyLength + Buffer.byteLength(value, 'utf8');
  }
  return 3 + 6 * message.properties.size + text + message.payload.byteLength;
}

function unstorable(pchannel: string, why: string): WalError {
  return new WalError(
    WalErrorCode.INVALID_ARGUMENT,
    `append on pchannel "${pchannel}": the message cannot be stored: ${why}`,
  );
}

function isAscii(s: string): boolean {
  if (s.length > SHORT_STRING) return !NON_ASCII.test(s);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Writes the entry of a message {@link entryBytes} accepted at `offset` of `out` and returns where it
 * ends (`offset + entryBytes(message)`); `out` must have room for it.
 */
export function writeEntry(out: Buffer, offset: number, message: MessageEnvelope): number {
  const props = message.properties;
  const count = props.size;
  out[offset] = ENTRY_FORMAT;
  writeU16(out, offset + 1, count);
  let at = offset + 3;
  let end = at + 6 * count;
  for (const [key, value] of props) {
    const keyEnd = writeAscii(out, end, key);
    const valueEnd = keyEnd < 0 ? -1 : writeAscii(out, keyEnd, value);
    // Rare (entryBytes measured UTF-8 lengths): start over, every string through the UTF-8 encoder.
    if (valueEnd < 0) return writeUtf8Entry(out, offset, message);
    writeU16(out, at, keyEnd - end);
    writeU32(out, at + 2, valueEnd - keyEnd);
    at += 6;
    end = valueEnd;
  }
  out.set(message.payload, end);
  return end + message.payload.byteLength;
}

/** Writes an ASCII string as bytes at `at` and returns where it ends; -1 (bytes undefined) for other text. */
function writeAscii(out: Buffer, at: number, s: string): number {
  if (s.length > SHORT_STRING) return NON_ASCII.test(s) ? -1 : at + out.write(s, at, 'latin1');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    out[at + i] = c;
  }
  return at + s.length;
}

function writeUtf8Entry(out: Buffer, offset: number, message: MessageEnvelope): number {
  let at = offset + 3;
  let end = at + 6 * message.properties.size;
  for (const [key, value] of message.properties) {
    const keyLength = out.write(key, end, 'utf8');
    const valueLength = out.write(value, end + keyLength, 'utf8');
    writeU16(out, at, keyLength);
    writeU32(out, at + 2, valueLength);
    at += 6;
    end += keyLength + valueLength;
  }
  out.set(message.payload, end);
  return end + message.payload.byteLength;
}

// Byte stores instead of Buffer#writeUInt*: no range checks and no call per field (values are in range
// by construction: a count ≤ 65535, lengths of strings).
function writeU16(out: Buffer, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
}

function writeU32(out: Buffer, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

/** The entry bytes of a message, in a buffer of their own (tests, tools; the writer writes into blocks). */
export function encodeEntry(message: MessageEnvelope, pchannel: string): Buffer {
  const out = Buffer.allocUnsafe(entryBytes(message, pchannel));
  writeEntry(out, 0, message);
  return out;
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
