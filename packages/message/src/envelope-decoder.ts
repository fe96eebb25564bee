import { BinaryReader } from '@bufbuild/protobuf/wire';

import { copyAlone } from './payload-arena.js';
import type { PayloadArena } from './payload-arena.js';
import { PropertyKey } from './property-keys.js';

// `Message { bytes payload = 1; map<string, string> properties = 2; }` decoded without the generated
// code, because the node decodes one per appended message and the generated path allocates a lot per
// message that nobody keeps: a reader and its DataView, the base message with an empty Buffer and Map,
// an object per map entry, a depth counter property on the reader (a hidden-class change), and then
// `fromEnvelope`'s copy of the map. Here the bytes are walked once into the one map the message keeps.
// Keys of system properties come out as the interned `PropertyKey` strings, and a vchannel, type or
// version equal to the previous one as the previous string, so downstream map lookups by them hash
// nothing new.
//
// It accepts and rejects what the generated decoder does (a property test compares them on arbitrary
// bytes): unknown fields are skipped, the last payload and the last value of a key win, and truncated
// input throws. Unknown fields (rare) are skipped by protobuf-es's BinaryReader.

/** A decoded `Message`: the payload copied out of the input and a property map of its own. */
export interface DecodedEnvelope {
  readonly payload: Uint8Array;
  readonly properties: Map<string, string>;
}

const TAG_PAYLOAD = (1 << 3) | 2;
const TAG_PROPERTY = (2 << 3) | 2;
const TAG_KEY = (1 << 3) | 2;
const TAG_VALUE = (2 << 3) | 2;
const END_GROUP = 4;

/** Strings up to this length that are plain ASCII are built from char codes (TextDecoder costs more). */
const ASCII_MAX = 32;
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const SYSTEM_KEYS: readonly string[] = Object.values(PropertyKey);

/** The last value of a property and its bytes, for values that repeat from message to message. */
interface LastValue {
  bytes: Uint8Array;
  text: string;
}

// A produce request's messages mostly share one vchannel, and every message has the same version
// and few types; their strings are reused, so Map lookups by them (`_t` → type) hash nothing new.
const lastVChannel: LastValue = { bytes: new Uint8Array(0), text: '' };
const lastType: LastValue = { bytes: new Uint8Array(0), text: '' };
const lastVersion: LastValue = { bytes: new Uint8Array(0), text: '' };

/**
 * Decodes `streamsvc.message.v1.Message` bytes. The payload is copied out of `bytes` (into `arena` when
 * given), so the result never keeps `bytes` alive.
 * @throws Error (RangeError for truncated input) for bytes that are not a valid `Message`.
 */
export function decodeMessageEnvelope(bytes: Uint8Array, arena?: PayloadArena): DecodedEnvelope {
  const r = new Cursor(bytes);
  let payload: Uint8Array | undefined;
  const properties = new Map<string, string>();
  while (r.pos < r.len) {
    const tag = r.varint32();
    if (tag === TAG_PAYLOAD) {
      const end = r.span();
      payload = arena === undefined ? copyAlone(bytes, r.start, end) : arena.copy(bytes, r.start, end);
    } else if (tag === TAG_PROPERTY) {
      readProperty(r, r.varint32(), properties);
    } else {
      if ((tag & 7) === END_GROUP || tag === 0) break;
      r.skip(tag);
    }
  }
  // The generated decoder's default payload is a fresh empty Buffer; keep the type the same.
  return { payload: payload ?? Buffer.alloc(0), properties };
}

function readProperty(r: Cursor, length: number, into: Map<string, string>): void {
  const end = r.pos + length;
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === TAG_KEY) key = r.key();
    else if (tag === TAG_VALUE) value = r.value(lastValueOf(key));
    else {
      if ((tag & 7) === END_GROUP || tag === 0) break;
      r.skip(tag);
    }
  }
  into.set(key, value);
}

function lastValueOf(key: string): LastValue | undefined {
  if (key === PropertyKey.VChannel) return lastVChannel;
  if (key === PropertyKey.MessageType) return lastType;
  if (key === PropertyKey.Version) return lastVersion;
  return undefined;
}

/** A read position over the input; throws as protobuf-es's BinaryReader does on bad input. */
class Cursor {
  readonly buf: Uint8Array;
  readonly len: number;
  pos = 0;
  /** Where the field read by the last {@link span} starts. */
  start = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.len = buf.length;
  }

  /** protobuf-es's `varint32read`: up to 10 bytes, keeping the low 32 bits. */
  varint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let result = b & 0x7f;
    if ((b & 0x80) === 0) return this.#checked(result);
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 7;
    if ((b & 0x80) === 0) return this.#checked(result);
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 14;
    if ((b & 0x80) === 0) return this.#checked(result);
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 21;
    if ((b & 0x80) === 0) return this.#checked(result);
    b = buf[this.pos++]!;
    result |= (b & 0x0f) << 28;
    for (let read = 5; (b & 0x80) !== 0 && read < 10; read++) b = buf[this.pos++]!;
    if ((b & 0x80) !== 0) throw new Error('invalid varint');
    return this.#checked(result >>> 0);
  }

  /** Reads a length-delimited field's length: it spans [{@link start}, the returned end). */
  span(): number {
    const len = this.varint32();
    this.start = this.pos;
    this.pos += len;
    if (this.pos > this.len) throw new RangeError('premature EOF');
    return this.pos;
  }

  /** A property key: a system key as its interned constant. */
  key(): string {
    const end = this.span();
    const buf = this.buf;
    const start = this.start;
    if (end - start <= 4 && buf[start] === 0x5f /* _ */) {
      for (const key of SYSTEM_KEYS) if (sameAscii(key, buf, start, end)) return key;
    }
    return decodeString(buf, start, end);
  }

  /** A property value; the string of `last` when the bytes are the same as its (which it then keeps). */
  value(last: LastValue | undefined): string {
    const end = this.span();
    if (last === undefined) return decodeString(this.buf, this.start, end);
    if (sameBytes(last.bytes, this.buf, this.start, end)) return last.text;
    last.text = decodeString(this.buf, this.start, end);
    last.bytes = this.buf.slice(this.start, end);
    return last.text;
  }

  /**
   * Skips an unknown field (rare) with protobuf-es's BinaryReader, groups included. Like the generated
   * decoders it passes no field number, so a group's end tag is not matched against its start.
   */
  skip(tag: number): void {
    const reader = new BinaryReader(this.buf);
    reader.pos = this.pos;
    reader.skip(tag & 7);
    this.pos = reader.pos;
  }

  #checked(value: number): number {
    if (this.pos > this.len) throw new RangeError('premature EOF');
    return value;
  }
}

function decodeString(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= ASCII_MAX) {
    let text = '';
    for (let i = start; i < end; i++) {
      const byte = buf[i]!;
      if (byte > 0x7f) return utf8.decode(buf.subarray(start, end));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return utf8.decode(buf.subarray(start, end));
}

function sameAscii(text: string, buf: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
