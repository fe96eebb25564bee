/**
 * The embedded store's on-disk records, as explicit byte layouts (not msgpack) so the format is
 * stable, versioned and checked on read: anything that does not parse is a CORRUPT error.
 *
 * - `kv`     key bytes → [u8 1][u64 createRevision][u64 modRevision][u64 version][u64 lease][value…]
 * - `hist`   [u64 revision][u32 index] → [u8 type][u32 keyLength][key…][u8 hasPrev][u32 prevLength][prev kv…][new kv…]
 * - `leases` [u64 id] → [u8 1][u64 ttlMs]
 * - `lkeys`  [u64 lease id][key…] → [u8 1]   (which keys a lease owns, so expiry deletes them)
 * - `meta`   name → u64 (revision, compactRevision, leaseSeq, format)
 */
import { MetaKvError, MetaKvErrorCode } from './errors.js';

/** One stored key's MVCC state; `lease` is 0n when the key has no lease. */
export interface StoredKv {
  readonly value: Uint8Array;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  readonly version: bigint;
  readonly lease: bigint;
}

/** One change kept in history: the key's state before (`prev`) and, for a put, after (`kv`). */
export interface StoredEvent {
  readonly type: 'put' | 'delete';
  readonly key: Uint8Array;
  readonly kv: StoredKv | undefined;
  readonly prev: StoredKv | undefined;
}

const KV_TAG = 1;
const KV_HEADER = 1 + 8 * 4;
const EVENT_PUT = 1;
const EVENT_DELETE = 2;

/** The current on-disk format; a database with another one is refused. */
export const FORMAT_VERSION = 1n;

export function corrupt(what: string, cause?: unknown): MetaKvError {
  return new MetaKvError(MetaKvErrorCode.CORRUPT, `embedded database is damaged: ${what}`, { cause });
}

/** Big-endian u64 bytes of `n` (so byte order equals numeric order in LMDB keys). */
export function u64(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(n);
  return b;
}

export function readU64(bytes: Uint8Array, offset = 0, what = 'u64'): bigint {
  if (bytes.length < offset + 8) throw corrupt(`${what} is truncated`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(offset);
}

export function encodeKv(kv: StoredKv): Buffer {
  const b = Buffer.allocUnsafe(KV_HEADER + kv.value.length);
  b.writeUInt8(KV_TAG, 0);
  b.writeBigUInt64BE(kv.createRevision, 1);
  b.writeBigUInt64BE(kv.modRevision, 9);
  b.writeBigUInt64BE(kv.version, 17);
  b.writeBigUInt64BE(kv.lease, 25);
  b.set(kv.value, KV_HEADER);
  return b;
}

export function decodeKv(bytes: Uint8Array): StoredKv {
  if (bytes.length < KV_HEADER || bytes[0] !== KV_TAG) throw corrupt('unreadable key record');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    createRevision: b.readBigUInt64BE(1),
    modRevision: b.readBigUInt64BE(9),
    version: b.readBigUInt64BE(17),
    lease: b.readBigUInt64BE(25),
    // A copy: LMDB may hand out views of memory it reuses.
    value: Uint8Array.prototype.slice.call(bytes, KV_HEADER),
  };
}

/** History key of the `index`-th change at `revision`. */
export function histKey(revision: bigint, index: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeBigUInt64BE(revision);
  b.writeUInt32BE(index, 8);
  return b;
}

/** The revision part of a history key. */
export function histKeyRevision(key: Uint8Array): bigint {
  if (key.length !== 12) throw corrupt('unreadable history key');
  return readU64(key, 0, 'history key');
}

export function encodeEvent(event: StoredEvent): Buffer {
  const prev = event.prev ? encodeKv(event.prev) : undefined;
  const next = event.kv ? encodeKv(event.kv) : undefined;
  const size = 1 + 4 + event.key.length + 1 + 4 + (prev?.length ?? 0) + (next?.length ?? 0);
  const b = Buffer.allocUnsafe(size);
  let at = b.writeUInt8(event.type === 'put' ? EVENT_PUT : EVENT_DELETE, 0);
  at = b.writeUInt32BE(event.key.length, at);
  b.set(event.key, at);
  at += event.key.length;
  at = b.writeUInt8(prev ? 1 : 0, at);
  at = b.writeUInt32BE(prev?.length ?? 0, at);
  if (prev) {
    b.set(prev, at);
    at += prev.length;
  }
  if (next) b.set(next, at);
  return b;
}

export function decodeEvent(bytes: Uint8Array): StoredEvent {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const type = b.readUInt8(0);
    if (type !== EVENT_PUT && type !== EVENT_DELETE) throw corrupt('unknown history event type');
    const keyLength = b.readUInt32BE(1);
    let at = 5;
    const key = Uint8Array.prototype.slice.call(bytes, at, at + keyLength);
    at += keyLength;
    const hasPrev = b.readUInt8(at) === 1;
    const prevLength = b.readUInt32BE(at + 1);
    at += 5;
    const prev = hasPrev ? decodeKv(bytes.subarray(at, at + prevLength)) : undefined;
    at += prevLength;
    const kv = type === EVENT_PUT ? decodeKv(bytes.subarray(at)) : undefined;
    if (key.length !== keyLength) throw corrupt('truncated history event');
    return { type: type === EVENT_PUT ? 'put' : 'delete', key, kv, prev };
  } catch (e) {
    if (MetaKvError.is(e)) throw e;
    throw corrupt('unreadable history event', e);
  }
}

/** Key of a lease record. */
export function leaseKey(id: bigint): Buffer {
  return u64(id);
}

export function encodeLease(ttlMs: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b.writeUInt8(1, 0);
  b.writeBigUInt64BE(BigInt(ttlMs), 1);
  return b;
}

export function decodeLease(bytes: Uint8Array): { ttlMs: number } {
  if (bytes.length !== 9 || bytes[0] !== 1) throw corrupt('unreadable lease record');
  return { ttlMs: Number(readU64(bytes, 1, 'lease ttl')) };
}

/** Key of the "lease owns key" index entry. */
export function leaseKeysKey(leaseId: bigint, key: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(8 + key.length);
  b.writeBigUInt64BE(leaseId);
  b.set(key, 8);
  return b;
}

/** The owned key of a "lease owns key" index entry. */
export function leaseKeysKeyKey(entry: Uint8Array): Uint8Array {
  if (entry.length <= 8) throw corrupt('unreadable lease index entry');
  return Uint8Array.prototype.slice.call(entry, 8);
}

/** The (tiny) value stored in index entries. */
export const PRESENT = Buffer.from([1]);
