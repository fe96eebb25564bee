import type { BlockHeader } from './block-codec.js';
import type { SegmentEnd } from './log-meta.js';

/**
 * The medium under the log, one implementation per mode (local files, objects). Everything above it —
 * batching, ordered acks, fencing protocol, metadata, rolling, readers — is one code path.
 */
export interface SegmentStore {
  readonly mode: 'local' | 'object';
  /**
   * Prepares the write side of a segment just created (active) by this writer.
   * @throws {WalError} UNAVAILABLE.
   */
  openSink(pchannel: string, segmentId: number, term: bigint): Promise<BlockSink>;
  /**
   * Fences `segmentId` — from this call's return on, no older writer can make another block of it
   * durable and report success — and finds its durable end: the last complete block, a torn tail cut.
   * Idempotent.
   * @throws {WalError} CORRUPT when a valid block follows an invalid one (the damage is not a torn
   *   tail, so cutting there would lose acknowledged data); UNAVAILABLE.
   */
  fenceAndRecover(pchannel: string, segmentId: number, term: bigint): Promise<SegmentEnd>;
  /** Deletes every byte of a segment (missing data is fine). @throws {WalError} UNAVAILABLE. */
  deleteSegment(pchannel: string, segmentId: number): Promise<void>;
  /** A reader of one segment, positioned at its first block. */
  openCursor(pchannel: string, segmentId: number, hint: CursorHint): SegmentCursor;
}

/** What a reader knows about a segment when it opens a cursor. */
export interface CursorHint {
  /** The block count of a completed segment (lets object readers fetch ahead); undefined while active. */
  readonly knownBlocks: number | undefined;
}

/** The outcome of a durable block write. */
export type BlockWriteOutcome =
  /** Durable, and the segment was not fenced when it became so: the entries are in the log. */
  | 'durable'
  /**
   * Durable, but a fence appeared meanwhile (local mode): the new writer may or may not have counted
   * this block; the segment's recorded end decides.
   */
  | 'fenced-after-write';

/** The append side of one active segment. */
export interface BlockSink {
  /** Where the next block goes, for logs (file offset or block number). */
  readonly describe: string;
  /**
   * True when the sink keeps no reference to a block once its `writeBlock` settled (a local file write
   * copied the bytes), so the writer may encode a later block into the same buffer. Object sinks keep
   * blocks for retries and hand them to the store: false.
   */
  readonly releasesBlocks: boolean;
  /**
   * Writes one encoded block durably (fdatasync / PUT). Calls are issued in block order, at most
   * `parallelWrites` at a time.
   * @param chained true when the writer cut this block in the same turn of the event loop (no I/O
   *   callback or timer in between, only microtasks) in which this sink's previous write resolved
   *   `durable`: a local sink lets the fence check that write ended with stand for the check before this one.
   * @throws {WalError} FENCED when the segment was fenced before the block became durable (the block is
   *   not part of the log); UNAVAILABLE (after retries) or others when the outcome is unknown.
   */
  writeBlock(blockNo: number, block: Buffer, chained: boolean): Promise<BlockWriteOutcome>;
  /** The segment is complete at `end`: trims preallocation and releases handles. Best effort. */
  finish(end: SegmentEnd): Promise<void>;
  /**
   * After a failed write: makes the medium hold exactly the blocks up to `acked` (local: truncates the
   * file back), or finds which later blocks did land (object: fences at the first free slot), and
   * returns the end the segment must be completed at.
   * @throws {WalError} when the medium cannot be repaired now.
   */
  repair(acked: SegmentEnd): Promise<SegmentEnd>;
  /** Releases handles without completing (fenced, broken). Idempotent. */
  close(): Promise<void>;
}

/** A block a cursor read: validated header and records. */
export interface ReadBlock {
  readonly kind: 'block';
  readonly header: BlockHeader;
  /** The records region, already checked by `checkRecords`. */
  readonly payload: Buffer;
}

/** Why a cursor has no block to give: nothing there yet, a fence, or something broken. */
export interface NoBlock {
  readonly kind: 'none' | 'fence' | 'invalid';
  /** What was found, naming the block: for CORRUPT errors and logs. */
  readonly why: string;
  readonly blockNo: number;
  readonly location: string;
}

/** Reads one segment block by block. */
export interface SegmentCursor {
  /** The block number the next `read` returns. */
  readonly nextBlockNo: number;
  /** The first entry of that block (after the last block read or skipped). */
  readonly nextEntryId: number;
  /** Reads the next block; a `block` result advances the cursor, anything else leaves it in place. */
  read(): Promise<ReadBlock | NoBlock>;
  /** Cheaply checks whether something is at the cursor now (tail polling): a header, an object. */
  probe(): Promise<boolean>;
  /**
   * Whether a newer writer has fenced the segment in a way readers must heed: local mode's fence file
   * (a block read before it appeared is certain to be counted by the new writer's scan; one read after
   * may not be). Object mode answers false: a fence object itself ends the readable run of blocks.
   */
  fenced(): Promise<boolean>;
  /**
   * Moves the cursor to the block holding `entryId` (or, past the data, to the next block to come).
   * @throws {WalError} CORRUPT, UNAVAILABLE.
   */
  seek(entryId: number): Promise<void>;
  close(): Promise<void>;
}
