import type { FileHandle } from 'node:fs/promises';

import type { BlockHeader } from './block-codec.js';
import { BLOCK_HEADER_BYTES, BLOCK_MAGIC, checkRecords, isHeader, readBlockHeader } from './block-codec.js';

/** Which block the reader expects at an offset: blocks of a segment are numbered and contiguous. */
export interface ExpectedBlock {
  readonly segmentId: number;
  readonly blockNo: number;
  readonly firstEntryId: number;
}

/** A valid block read from a file, and where the next one starts. */
export interface FileBlock {
  readonly kind: 'block';
  readonly header: BlockHeader;
  readonly payload: Buffer;
  readonly nextOffset: number;
}

/** No valid block at the offset: nothing written (`none`) or something torn or damaged (`invalid`). */
export interface FileNoBlock {
  readonly kind: 'none' | 'invalid';
  readonly why: string;
}

const MIN_READ_BYTES = 64 * 1024;
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(BLOCK_MAGIC, 0);

/**
 * Reads blocks from one segment file in large chunks (read-ahead): a catching-up reader or a recovery
 * scan issues one `read` per chunk, not one per block. A negative answer (nothing there, torn) is never
 * taken from a cached chunk — the file may have grown since — but re-read from disk.
 */
export class LocalBlockFile {
  readonly #fh: FileHandle;
  readonly #chunkBytes: number;
  #buf: Buffer | undefined;
  #bufStart = 0;
  // Adaptive read size: small at the tail (a reader woken per block must not allocate megabytes per
  // block), doubling while reads come back full (catching up) up to the read-ahead size.
  #readBytes = MIN_READ_BYTES;

  constructor(fh: FileHandle, chunkBytes: number) {
    this.#fh = fh;
    this.#chunkBytes = chunkBytes;
  }

  /** Drops the cached chunk: the next read goes to disk. */
  invalidate(): void {
    this.#buf = undefined;
  }

  /**
   * The block at `offset` when it is complete, valid and the one `expect`ed.
   * @throws the file system's errors (callers translate).
   */
  async blockAt(offset: number, expect: ExpectedBlock): Promise<FileBlock | FileNoBlock> {
    let result: FileBlock | FileNoBlock = { kind: 'none', why: 'not read' };
    for (const fresh of [false, true]) {
      result = await this.#tryBlockAt(offset, expect, fresh);
      if (result.kind === 'block') return result;
    }
    return result;
  }

  /** True when the header bytes at `offset` are not all zero / missing (tail polling). */
  async somethingAt(offset: number): Promise<boolean> {
    const head = await this.#bytes(offset, BLOCK_HEADER_BYTES, true);
    const h = readBlockHeader(head);
    return isHeader(h) || h.kind === 'invalid';
  }

  /**
   * Looks for a valid header of segment `segmentId` with a block number ≥ `minBlockNo` anywhere after
   * `offset`: proof that the data at `offset` is damage, not a torn tail (a writer only starts a block
   * after the previous one is durable). Bounded by the file size.
   */
  async validBlockAfter(offset: number, segmentId: number, minBlockNo: number): Promise<number | undefined> {
    const size = (await this.#fh.stat()).size;
    const step = this.#chunkBytes;
    for (let start = offset + 1; start < size; start += step) {
      // Chunks overlap by a header so a header across a chunk boundary is seen whole.
      const chunk = await this.#bytes(start, step + BLOCK_HEADER_BYTES, true);
      for (let at = chunk.indexOf(MAGIC_BYTES); at >= 0; at = chunk.indexOf(MAGIC_BYTES, at + 1)) {
        if (at >= step) break;
        const h = readBlockHeader(chunk, at);
        if (isHeader(h) && h.segmentId === segmentId && h.blockNo >= minBlockNo) return start + at;
      }
    }
    return undefined;
  }

  async #tryBlockAt(offset: number, expect: ExpectedBlock, fresh: boolean): Promise<FileBlock | FileNoBlock> {
    const head = await this.#bytes(offset, BLOCK_HEADER_BYTES, fresh);
    const h = readBlockHeader(head);
    if (!isHeader(h)) return { kind: h.kind === 'empty' ? 'none' : 'invalid', why: h.why };
    if (h.segmentId !== expect.segmentId || h.blockNo !== expect.blockNo || h.firstEntryId !== expect.firstEntryId) {
      return {
        kind: 'invalid',
        why: `header of segment ${h.segmentId} block ${h.blockNo} first entry ${h.firstEntryId}, expected segment ${expect.segmentId} block ${expect.blockNo} first entry ${expect.firstEntryId}`,
      };
    }
    const total = BLOCK_HEADER_BYTES + h.payloadLength;
    const whole = await this.#bytes(offset, total, fresh);
    if (whole.byteLength < total) {
      return { kind: 'invalid', why: `truncated: ${whole.byteLength} of ${total} bytes present` };
    }
    const payload = whole.subarray(BLOCK_HEADER_BYTES);
    const problem = checkRecords(payload, h);
    if (problem !== undefined) return { kind: 'invalid', why: problem };
    return { kind: 'block', header: h, payload, nextOffset: offset + total };
  }

  // A view of `length` bytes at `offset` (shorter at the end of the file). Chunks are fresh buffers,
  // never reused, so views handed out stay valid while the next chunk is read.
  async #bytes(offset: number, length: number, fresh: boolean): Promise<Buffer> {
    const buf = this.#buf;
    if (!fresh && buf !== undefined && offset >= this.#bufStart && offset + length <= this.#bufStart + buf.byteLength) {
      return buf.subarray(offset - this.#bufStart, offset - this.#bufStart + length);
    }
    const size = Math.max(length, Math.min(this.#readBytes, this.#chunkBytes));
    const chunk = Buffer.allocUnsafe(size);
    let filled = 0;
    // Bounded: each round reads more, or stops at the end of the file.
    while (filled < size) {
      const { bytesRead } = await this.#fh.read(chunk, filled, size - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.#buf = chunk.subarray(0, filled);
    this.#bufStart = offset;
    // A chunk that ends in never-written bytes (a preallocated hole, or the end) means the tail is near.
    const atTail = filled < size || chunk[filled - 1] === 0;
    this.#readBytes = atTail ? MIN_READ_BYTES : Math.min(this.#readBytes * 2, this.#chunkBytes);
    return this.#buf.subarray(0, Math.min(length, filled));
  }
}
