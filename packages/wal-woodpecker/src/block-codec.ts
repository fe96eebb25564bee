import { crc32c } from '@node-rs/crc32';

/**
 * The one block format of both media. A block is a file region (local mode) or a whole object (object
 * mode):
 *
 * ```
 * header, 40 bytes, little-endian
 *   0 magic u32 "WPB1"   4 format version u16   6 flags u16 (0)
 *   8 segment id u64     16 block number u32    20 first entry id u64
 *  28 entry count u32    32 payload length u32  36 CRC32C of bytes 0..35
 * payload: entry count records, exactly payload length bytes
 *   record = length u32, CRC32C of the entry bytes u32, entry bytes
 * ```
 *
 * Entry ids are not stored per record: entry i of the block is `firstEntryId + i` (as in Woodpecker).
 * A reader trusts a block only when the header CRC holds and every record's CRC holds and the records
 * fill the payload exactly; anything else is a torn or corrupt block.
 */
/** The first 4 bytes of every block: "WPB1" little-endian. */
export const BLOCK_MAGIC = 0x31425057;
/** The block (and fence) format version this code writes and reads. */
export const FORMAT_VERSION = 1;
/** Size of a block header. */
export const BLOCK_HEADER_BYTES = 40;
/** Size of a record's length + CRC prefix. */
export const RECORD_HEADER_BYTES = 8;

/**
 * A fence object (object mode) sits in the first free block slot of a segment a new writer took over:
 * an older writer's next put-if-absent there fails. 24 bytes, so it is told from a block by its size.
 * `0 magic "WPF1"  4 version u16  6 flags u16  8 term u64  16 CRC32C of 0..15  20 reserved u32`.
 */
/** The first 4 bytes of a fence object: "WPF1" little-endian. */
export const FENCE_MAGIC = 0x31465057;
/** Size of a fence object. */
export const FENCE_BYTES = 24;

/** What a block header says. */
export interface BlockHeader {
  readonly segmentId: number;
  readonly blockNo: number;
  readonly firstEntryId: number;
  readonly entryCount: number;
  readonly payloadLength: number;
}

/** Where a block goes: its segment, number and first entry. */
export interface BlockPosition {
  readonly segmentId: number;
  readonly blockNo: number;
  readonly firstEntryId: number;
}

/**
 * How the entries of a block are written: each straight into the block buffer, once (no per-entry
 * buffer to copy from), by the entry codec or, in tests, from bytes.
 */
export interface RecordSource<E> {
  /** The byte length of `entry`'s bytes, measured when it was accepted. */
  entryBytes(entry: E): number;
  /** Writes `entry`'s bytes at `offset` of `out` and returns where they end. */
  writeEntry(out: Buffer, offset: number, entry: E): number;
}

/** Entries given as their bytes. */
export const bytesRecords: RecordSource<Uint8Array> = {
  entryBytes: (bytes) => bytes.byteLength,
  writeEntry: (out, offset, bytes) => {
    out.set(bytes, offset);
    return offset + bytes.byteLength;
  },
};

/** The size of a record holding `entryBytes` bytes. */
export function recordBytes(entryBytes: number): number {
  return RECORD_HEADER_BYTES + entryBytes;
}

/**
 * Encodes one block: header plus the records of `entries`, each entry written in place and its CRC
 * taken over the bytes as they stand in the block. Into `reuse` when it is given and large enough (the
 * caller vouches nothing reads it any more), else into a new buffer.
 * @throws {RangeError} for an empty block, one whose payload does not fit a u32, or an entry whose
 *   bytes are not as long as `source` said (it changed since it was measured).
 */
export function encodeBlock<E>(
  at: BlockPosition,
  entries: readonly E[],
  source: RecordSource<E>,
  reuse?: Buffer,
): Buffer {
  if (entries.length === 0) throw new RangeError('a block holds at least one entry');
  let payloadLength = 0;
  for (const e of entries) payloadLength += RECORD_HEADER_BYTES + source.entryBytes(e);
  if (payloadLength > 0xffff_ffff) throw new RangeError(`block payload of ${payloadLength} bytes exceeds 4 GiB`);
  const total = BLOCK_HEADER_BYTES + payloadLength;
  const out = reuse !== undefined && reuse.byteLength >= total ? reuse.subarray(0, total) : Buffer.allocUnsafe(total);
  writeHeader(out, { ...at, entryCount: entries.length, payloadLength });
  let offset = BLOCK_HEADER_BYTES;
  for (const e of entries) {
    const start = offset + RECORD_HEADER_BYTES;
    const length = source.entryBytes(e);
    const end = source.writeEntry(out, start, e);
    if (end !== start + length)
      throw new RangeError(`an entry measured at ${length} bytes was written as ${end - start}`);
    out.writeUInt32LE(length, offset);
    // A plain view (no Buffer species lookup): the CRC binding takes any Uint8Array.
    out.writeUInt32LE(crc32c(new Uint8Array(out.buffer, out.byteOffset + start, length)) >>> 0, offset + 4);
    offset = end;
  }
  return out;
}

function writeHeader(out: Buffer, h: BlockHeader): void {
  out.writeUInt32LE(BLOCK_MAGIC, 0);
  out.writeUInt16LE(FORMAT_VERSION, 4);
  out.writeUInt16LE(0, 6);
  writeU64(out, 8, h.segmentId);
  out.writeUInt32LE(h.blockNo, 16);
  writeU64(out, 20, h.firstEntryId);
  out.writeUInt32LE(h.entryCount, 28);
  out.writeUInt32LE(h.payloadLength, 32);
  out.writeUInt32LE(crc32c(out.subarray(0, 36)) >>> 0, 36);
}

/** Why bytes are not a valid block header: nothing written there yet, or something broken. */
export type HeaderProblem =
  { readonly kind: 'empty'; readonly why: string } | { readonly kind: 'invalid'; readonly why: string };

/**
 * Parses the header at `offset` of `buf`. Fewer than 40 bytes, or a zero magic (a preallocated hole,
 * never-written bytes), is `empty`: nothing was written there. Anything else that fails is `invalid`.
 */
export function readBlockHeader(buf: Uint8Array, offset = 0): BlockHeader | HeaderProblem {
  const b = asBuffer(buf);
  if (b.byteLength - offset < BLOCK_HEADER_BYTES) {
    const rest = b.subarray(offset);
    return rest.every((x) => x === 0)
      ? { kind: 'empty', why: `${rest.byteLength} bytes, fewer than a block header` }
      : { kind: 'invalid', why: `a torn header of ${rest.byteLength} bytes` };
  }
  const magic = b.readUInt32LE(offset);
  if (magic === 0 && b.subarray(offset, offset + BLOCK_HEADER_BYTES).every((x) => x === 0)) {
    return { kind: 'empty', why: 'zero bytes (nothing written)' };
  }
  if (magic !== BLOCK_MAGIC) return { kind: 'invalid', why: `bad magic 0x${magic.toString(16)}` };
  const crc = b.readUInt32LE(offset + 36);
  if (crc32c(b.subarray(offset, offset + 36)) >>> 0 !== crc) return { kind: 'invalid', why: 'header CRC mismatch' };
  const version = b.readUInt16LE(offset + 4);
  if (version !== FORMAT_VERSION) return { kind: 'invalid', why: `unknown format version ${version}` };
  const header: BlockHeader = {
    segmentId: readU64(b, offset + 8),
    blockNo: b.readUInt32LE(offset + 16),
    firstEntryId: readU64(b, offset + 20),
    entryCount: b.readUInt32LE(offset + 28),
    payloadLength: b.readUInt32LE(offset + 32),
  };
  if (header.entryCount === 0) return { kind: 'invalid', why: 'a header with zero entries' };
  return header;
}

/** True when `value` is a parsed header rather than a problem. */
export function isHeader(value: BlockHeader | HeaderProblem): value is BlockHeader {
  return !('kind' in value);
}

/**
 * Checks every record of a block payload: lengths that fill the payload exactly and matching CRCs.
 * Returns undefined when valid, else why not (naming the record).
 */
export function checkRecords(payload: Uint8Array, header: BlockHeader): string | undefined {
  const b = asBuffer(payload);
  if (b.byteLength !== header.payloadLength) {
    return `payload of ${b.byteLength} bytes, header says ${header.payloadLength}`;
  }
  let offset = 0;
  for (let i = 0; i < header.entryCount; i++) {
    if (offset + RECORD_HEADER_BYTES > b.byteLength) return `record ${i} of ${header.entryCount} is missing`;
    const length = b.readUInt32LE(offset);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > b.byteLength) return `record ${i} (entry ${header.firstEntryId + i}) runs past the block`;
    const crc = b.readUInt32LE(offset + 4);
    if (crc32c(b.subarray(offset + RECORD_HEADER_BYTES, end)) >>> 0 !== crc) {
      return `record ${i} (entry ${header.firstEntryId + i}) CRC mismatch`;
    }
    offset = end;
  }
  if (offset !== b.byteLength) return `${b.byteLength - offset} bytes after the last record`;
  return undefined;
}

/**
 * The entry bytes of a payload already checked by {@link checkRecords}, from record `from` on. The
 * arrays are views into `payload`.
 */
export function* recordsOf(payload: Uint8Array, header: BlockHeader, from = 0): Generator<Uint8Array> {
  const b = asBuffer(payload);
  let offset = 0;
  for (let i = 0; i < header.entryCount; i++) {
    const length = b.readUInt32LE(offset);
    const start = offset + RECORD_HEADER_BYTES;
    if (i >= from) yield b.subarray(start, start + length);
    offset = start + length;
  }
}

/** Encodes the fence object a writer of `term` puts in a taken-over segment's first free slot. */
export function encodeFence(term: bigint): Buffer {
  const out = Buffer.alloc(FENCE_BYTES);
  out.writeUInt32LE(FENCE_MAGIC, 0);
  out.writeUInt16LE(FORMAT_VERSION, 4);
  out.writeBigUInt64LE(BigInt.asUintN(64, term), 8);
  out.writeUInt32LE(crc32c(out.subarray(0, 16)) >>> 0, 16);
  return out;
}

/** True when `bytes` are a fence object (size, magic and CRC). */
export function isFence(bytes: Uint8Array): boolean {
  const b = asBuffer(bytes);
  return (
    b.byteLength === FENCE_BYTES &&
    b.readUInt32LE(0) === FENCE_MAGIC &&
    crc32c(b.subarray(0, 16)) >>> 0 === b.readUInt32LE(16)
  );
}

function writeU64(out: Buffer, offset: number, value: number): void {
  out.writeUInt32LE(value % 0x1_0000_0000, offset);
  out.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

function readU64(b: Buffer, offset: number): number {
  // Ids stay below 2^53 (positionOf refuses more), so the high word is small.
  return b.readUInt32LE(offset + 4) * 0x1_0000_0000 + b.readUInt32LE(offset);
}

/** A Buffer view of `bytes` without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
