import type { Clock } from '@streamsvc/common';
import { ObjectStoreError, ObjectStoreErrorCode } from '@streamsvc/objectstore';
import type { ObjectStore } from '@streamsvc/objectstore';

import {
  asBuffer,
  BLOCK_HEADER_BYTES,
  encodeFence,
  FENCE_BYTES,
  isFence,
  isHeader,
  readBlockHeader,
} from './block-codec.js';
import { asWalError, corruptBlock, fencedError } from './errors.js';
import type { SegmentEnd } from './log-meta.js';
import { ObjectKeys } from './object-keys.js';
import { ObjectSegmentCursor } from './object-segment-cursor.js';
import type { BlockSink, BlockWriteOutcome, CursorHint, SegmentCursor, SegmentStore } from './segment-store.js';

// A takeover re-probes when an old writer's block lands in the slot it was about to fence; the old
// writer has at most `maxParallelUploads` blocks in flight, so a few rounds always suffice.
const MAX_FENCE_ROUNDS = 100;

/**
 * Object mode: each block is one immutable object `<prefix>/<pchannel>/<segment>/<block>.blk`, written
 * with put-if-absent. A new writer fences a segment by putting a fence object in its first free block
 * slot; the old writer's next put-if-absent there fails, and readers and recovery treat the first gap
 * or fence as the segment's end. No lock service, no lease: the object store's atomic conditional put
 * is the fence.
 */
export class ObjectSegmentStore implements SegmentStore {
  readonly mode = 'object';
  readonly #store: ObjectStore;
  readonly #keys: ObjectKeys;
  readonly #putRetries: number;
  readonly #readAheadBlocks: number;
  readonly #clock: Clock;

  constructor(options: {
    store: ObjectStore;
    prefix: string;
    putRetries: number;
    readAheadBlocks: number;
    clock: Clock;
  }) {
    this.#store = options.store;
    this.#keys = new ObjectKeys(options.store, options.prefix);
    this.#putRetries = options.putRetries;
    this.#readAheadBlocks = options.readAheadBlocks;
    this.#clock = options.clock;
  }

  async openSink(pchannel: string, segmentId: number, term: bigint): Promise<BlockSink> {
    return new ObjectBlockSink(this, pchannel, segmentId, term);
  }

  async fenceAndRecover(pchannel: string, segmentId: number, term: bigint): Promise<SegmentEnd> {
    const where = `pchannel "${pchannel}": recovery of segment ${segmentId}`;
    try {
      const listed = await this.#keys.listBlocks(pchannel, segmentId);
      let slot = 0;
      let bytes = 0;
      // The first gap or fence of the listing ends the unbroken run of blocks (later ones are orphans
      // of a failed pipeline: never acknowledged, never read).
      for (let size = listed.get(slot); size !== undefined && size !== FENCE_BYTES; size = listed.get(++slot)) {
        bytes += size;
      }
      const end =
        listed.get(slot) === FENCE_BYTES
          ? { slot, bytes }
          : await this.#fenceAt(pchannel, segmentId, term, slot, bytes);
      return {
        lastEntryId: await this.#lastEntryBefore(pchannel, segmentId, end.slot),
        blocks: end.slot,
        bytes: end.bytes,
      };
    } catch (e) {
      throw asWalError(e, where);
    }
  }

  async deleteSegment(pchannel: string, segmentId: number): Promise<void> {
    try {
      for (const key of await this.#keys.listKeys(pchannel, segmentId)) await this.#store.delete(key);
    } catch (e) {
      throw asWalError(e, `pchannel "${pchannel}": delete segment ${segmentId}`);
    }
  }

  openCursor(pchannel: string, segmentId: number, hint: CursorHint): SegmentCursor {
    return new ObjectSegmentCursor({
      store: this.#store,
      keys: this.#keys,
      pchannel,
      segmentId,
      knownBlocks: hint.knownBlocks,
      readAheadBlocks: this.#readAheadBlocks,
    });
  }

  /**
   * Puts a fence in the first free slot at or after `slot`, stepping over blocks that land meanwhile
   * (an old writer's upload racing the takeover; they count: they are durable and their writer will
   * acknowledge them). Returns the fence's slot and the bytes of the blocks before it.
   */
  async #fenceAt(
    pchannel: string,
    segmentId: number,
    term: bigint,
    slot: number,
    bytes: number,
  ): Promise<{ slot: number; bytes: number }> {
    const fence = encodeFence(term);
    for (let round = 0; round < MAX_FENCE_ROUNDS; round++, slot++) {
      const key = this.#keys.block(pchannel, segmentId, slot);
      try {
        await this.#store.putIfAbsent(key, fence);
        return { slot, bytes };
      } catch (e) {
        if (!ObjectStoreError.is(e, ObjectStoreErrorCode.ALREADY_EXISTS)) throw e;
      }
      const existing = await this.#store.get(key);
      if (isFence(existing)) return { slot, bytes };
      bytes += existing.byteLength;
    }
    throw new ObjectStoreError(
      ObjectStoreErrorCode.UNAVAILABLE,
      `segment ${segmentId}: blocks kept landing in the slot to fence for ${MAX_FENCE_ROUNDS} rounds`,
    );
  }

  /** The last entry of the blocks before `slot`, from the header of block `slot - 1` (-1 when none). */
  async #lastEntryBefore(pchannel: string, segmentId: number, slot: number): Promise<number> {
    if (slot === 0) return -1;
    const blockNo = slot - 1;
    const key = this.#keys.block(pchannel, segmentId, blockNo);
    const head = await this.#store.getRange(key, { offset: 0, length: BLOCK_HEADER_BYTES });
    const h = readBlockHeader(head);
    if (!isHeader(h) || h.segmentId !== segmentId || h.blockNo !== blockNo) {
      throw corruptBlock(
        { pchannel, segmentId, blockNo, location: `object ${key}` },
        isHeader(h) ? `header names segment ${h.segmentId} block ${h.blockNo}` : h.why,
      );
    }
    return h.firstEntryId + h.entryCount - 1;
  }

  /** For sinks: a block put with retries (see {@link ObjectBlockSink.writeBlock}). */
  async putBlock(pchannel: string, segmentId: number, term: bigint, blockNo: number, block: Buffer): Promise<void> {
    const key = this.#keys.block(pchannel, segmentId, blockNo);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#store.putIfAbsent(key, block);
        return;
      } catch (e) {
        if (ObjectStoreError.is(e, ObjectStoreErrorCode.ALREADY_EXISTS)) {
          const existing = await this.#store.get(key);
          // A retry whose first attempt landed: compare the bytes, since the key alone says nothing.
          if (asBuffer(existing).equals(block)) return;
          throw fencedError(
            pchannel,
            term,
            isFence(existing)
              ? `segment ${segmentId} was fenced at block ${blockNo} by a newer writer`
              : `block slot ${key} holds another object`,
          );
        }
        if (!ObjectStoreError.is(e, ObjectStoreErrorCode.UNAVAILABLE) || attempt >= this.#putRetries) throw e;
        await this.#clock.sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  /** For sinks: fence after a failed upload, adopting the blocks that did land (see `repair`). */
  async repairAt(pchannel: string, segmentId: number, term: bigint, acked: SegmentEnd): Promise<SegmentEnd> {
    let lastEntryId = acked.lastEntryId;
    let bytes = acked.bytes;
    const fence = encodeFence(term);
    for (let slot = acked.blocks, round = 0; round < MAX_FENCE_ROUNDS; slot++, round++) {
      const key = this.#keys.block(pchannel, segmentId, slot);
      try {
        await this.#store.putIfAbsent(key, fence);
        return { lastEntryId, blocks: slot, bytes };
      } catch (e) {
        if (!ObjectStoreError.is(e, ObjectStoreErrorCode.ALREADY_EXISTS)) throw e;
      }
      const existing = await this.#store.get(key);
      if (isFence(existing)) return { lastEntryId, blocks: slot, bytes };
      const h = readBlockHeader(existing);
      if (!isHeader(h) || h.segmentId !== segmentId || h.blockNo !== slot || h.firstEntryId !== lastEntryId + 1) {
        throw corruptBlock({ pchannel, segmentId, blockNo: slot, location: `object ${key}` }, 'unexpected object');
      }
      // One of this writer's uploads that the failure left unconfirmed: it is durable, so it counts.
      lastEntryId += h.entryCount;
      bytes += existing.byteLength;
    }
    throw new ObjectStoreError(ObjectStoreErrorCode.UNAVAILABLE, `segment ${segmentId}: no free slot to fence`);
  }
}

/** The write side of one object-mode segment. */
class ObjectBlockSink implements BlockSink {
  readonly releasesBlocks = false;
  readonly #owner: ObjectSegmentStore;
  readonly #pchannel: string;
  readonly #segmentId: number;
  readonly #term: bigint;

  constructor(owner: ObjectSegmentStore, pchannel: string, segmentId: number, term: bigint) {
    this.#owner = owner;
    this.#pchannel = pchannel;
    this.#segmentId = segmentId;
    this.#term = term;
  }

  get describe(): string {
    return `segment ${this.#segmentId}`;
  }

  /**
   * Puts the block with put-if-absent, retrying transient failures. ALREADY_EXISTS is success only
   * when the stored bytes are this block (a retry of ours); a fence or anything else means FENCED.
   */
  async writeBlock(blockNo: number, block: Buffer): Promise<BlockWriteOutcome> {
    try {
      await this.#owner.putBlock(this.#pchannel, this.#segmentId, this.#term, blockNo, block);
      return 'durable';
    } catch (e) {
      throw asWalError(e, `pchannel "${this.#pchannel}": upload of segment ${this.#segmentId} block ${blockNo}`);
    }
  }

  async finish(): Promise<void> {}

  async repair(acked: SegmentEnd): Promise<SegmentEnd> {
    try {
      return await this.#owner.repairAt(this.#pchannel, this.#segmentId, this.#term, acked);
    } catch (e) {
      throw asWalError(e, `pchannel "${this.#pchannel}": repair of segment ${this.#segmentId}`);
    }
  }

  async close(): Promise<void> {}
}
