import { ObjectStoreError, ObjectStoreErrorCode } from '@streamsvc/objectstore';
import type { ObjectStore } from '@streamsvc/objectstore';

import type { BlockHeader } from './block-codec.js';
import { BLOCK_HEADER_BYTES, checkRecords, FENCE_BYTES, isFence, isHeader, readBlockHeader } from './block-codec.js';
import { asWalError, corruptBlock } from './errors.js';
import type { ObjectKeys } from './object-keys.js';
import type { NoBlock, ReadBlock, SegmentCursor } from './segment-store.js';

type Fetched =
  | { readonly kind: 'data'; readonly bytes: Buffer }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly error: unknown };

interface CursorOptions {
  readonly store: ObjectStore;
  readonly keys: ObjectKeys;
  readonly pchannel: string;
  readonly segmentId: number;
  /** Blocks of a completed segment: fetch ahead up to it. Undefined while active (no speculative GETs). */
  readonly knownBlocks: number | undefined;
  readonly readAheadBlocks: number;
}

/**
 * Reads one object-mode segment block by block. On a completed segment it keeps `readAheadBlocks`
 * GETs in flight (catch-up); at the tail of an active one it fetches only the next block, and polls
 * with HEAD.
 */
export class ObjectSegmentCursor implements SegmentCursor {
  readonly #o: CursorOptions;
  readonly #prefetch = new Map<number, Promise<Fetched>>();
  #blockNo = 0;
  #nextEntry = 0;
  #closed = false;

  constructor(options: CursorOptions) {
    this.#o = options;
  }

  get nextBlockNo(): number {
    return this.#blockNo;
  }

  get nextEntryId(): number {
    return this.#nextEntry;
  }

  async read(): Promise<ReadBlock | NoBlock> {
    const blockNo = this.#blockNo;
    const key = this.#o.keys.block(this.#o.pchannel, this.#o.segmentId, blockNo);
    const location = `object ${key}`;
    const fetched = await (this.#prefetch.get(blockNo) ?? this.#fetch(blockNo));
    this.#prefetch.delete(blockNo);
    if (fetched.kind === 'error') throw asWalError(fetched.error, `pchannel "${this.#o.pchannel}": read ${key}`);
    if (fetched.kind === 'missing') {
      // Later prefetches may have raced the writer too: forget them all.
      this.#prefetch.clear();
      return { kind: 'none', why: 'no such object', blockNo, location };
    }
    const bytes = fetched.bytes;
    if (isFence(bytes)) return { kind: 'fence', why: 'a fence object', blockNo, location };
    const problem = this.#check(bytes, blockNo);
    if (typeof problem === 'string') return { kind: 'invalid', why: problem, blockNo, location };
    this.#blockNo++;
    this.#nextEntry = problem.firstEntryId + problem.entryCount;
    this.#fetchAhead();
    return { kind: 'block', header: problem, payload: bytes.subarray(BLOCK_HEADER_BYTES) };
  }

  async probe(): Promise<boolean> {
    if (this.#prefetch.has(this.#blockNo)) return true;
    const key = this.#o.keys.block(this.#o.pchannel, this.#o.segmentId, this.#blockNo);
    try {
      return (await this.#o.store.head(key)) !== undefined;
    } catch (e) {
      throw asWalError(e, `pchannel "${this.#o.pchannel}": poll ${key}`);
    }
  }

  async fenced(): Promise<boolean> {
    return false;
  }

  /**
   * Binary search over the listed block slots by their headers (ranged GETs of 40 bytes): O(log blocks)
   * requests instead of reading every block before the position.
   */
  async seek(entryId: number): Promise<void> {
    if (entryId <= this.#nextEntry) return;
    const { pchannel, segmentId, keys, store } = this.#o;
    let found: { blockNo: number; header: BlockHeader } | undefined;
    try {
      const listed = await keys.listBlocks(pchannel, segmentId);
      let count = 0;
      for (let size = listed.get(0); size !== undefined && size !== FENCE_BYTES; size = listed.get(++count)) {
        // counting the unbroken run of blocks
      }
      let lo = this.#blockNo;
      let hi = count - 1;
      // Bounded: the interval halves each round.
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const key = keys.block(pchannel, segmentId, mid);
        const h = readBlockHeader(await store.getRange(key, { offset: 0, length: BLOCK_HEADER_BYTES }));
        if (!isHeader(h) || h.segmentId !== segmentId || h.blockNo !== mid) {
          throw corruptBlock(
            { pchannel, segmentId, blockNo: mid, location: `object ${key}` },
            isHeader(h) ? 'wrong header' : h.why,
          );
        }
        if (h.firstEntryId <= entryId) {
          found = { blockNo: mid, header: h };
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
    } catch (e) {
      throw asWalError(e, `pchannel "${pchannel}": seek in segment ${segmentId}`);
    }
    if (found === undefined) return;
    this.#prefetch.clear();
    const { header, blockNo } = found;
    const inside = header.firstEntryId + header.entryCount > entryId;
    this.#blockNo = inside ? blockNo : blockNo + 1;
    this.#nextEntry = inside ? header.firstEntryId : header.firstEntryId + header.entryCount;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#prefetch.clear();
  }

  #check(bytes: Buffer, blockNo: number): BlockHeader | string {
    const h = readBlockHeader(bytes);
    if (!isHeader(h)) return h.why;
    if (h.segmentId !== this.#o.segmentId || h.blockNo !== blockNo || h.firstEntryId !== this.#nextEntry) {
      return `header of segment ${h.segmentId} block ${h.blockNo} first entry ${h.firstEntryId}, expected segment ${this.#o.segmentId} block ${blockNo} first entry ${this.#nextEntry}`;
    }
    const total = BLOCK_HEADER_BYTES + h.payloadLength;
    if (bytes.byteLength !== total) return `object of ${bytes.byteLength} bytes, the header says ${total}`;
    return checkRecords(bytes.subarray(BLOCK_HEADER_BYTES), h) ?? h;
  }

  #fetchAhead(): void {
    const known = this.#o.knownBlocks;
    if (known === undefined || this.#closed) return;
    const last = Math.min(known, this.#blockNo + this.#o.readAheadBlocks);
    for (let n = this.#blockNo; n < last; n++) {
      if (!this.#prefetch.has(n)) this.#prefetch.set(n, this.#fetch(n));
    }
  }

  // Never rejects: prefetches may be dropped unread, so failures are values, thrown when read.
  async #fetch(blockNo: number): Promise<Fetched> {
    const key = this.#o.keys.block(this.#o.pchannel, this.#o.segmentId, blockNo);
    try {
      const bytes = await this.#o.store.get(key);
      return {
        kind: 'data',
        bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      };
    } catch (error) {
      return ObjectStoreError.is(error, ObjectStoreErrorCode.NOT_FOUND)
        ? { kind: 'missing' }
        : { kind: 'error', error };
    }
  }
}
