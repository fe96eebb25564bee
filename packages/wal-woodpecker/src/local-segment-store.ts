import { constants, existsSync } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

import type { Clock } from '@streamsvc/common';

import { corruptBlock, asWalError } from './errors.js';
import { LocalBlockFile } from './local-block-file.js';
import { LocalSegmentCursor } from './local-segment-cursor.js';
import type { SegmentEnd } from './log-meta.js';
import type { BlockSink, BlockWriteOutcome, SegmentCursor, SegmentStore } from './segment-store.js';
import { fencedError } from './errors.js';

/** Paths of one segment: `<rootDir>/<pchannel>/<segment>.log` and its fence file `<segment>.fence`. */
export interface SegmentPaths {
  readonly dir: string;
  readonly data: string;
  readonly fence: string;
}

/**
 * Local mode: one append file per segment. Blocks are written at the end of the file and made durable
 * with fdatasync (group commit: one block per sync). Fencing across processes uses an exclusive fence
 * file per segment: the new writer creates it (O_EXCL) *before* it scans the file for the segment's
 * end; the old writer checks for it after each fdatasync and before acknowledging. So an acknowledged
 * block was durable before the fence existed, and the new writer's scan sees it.
 */
export class LocalSegmentStore implements SegmentStore {
  readonly mode = 'local';
  readonly #rootDir: string;
  readonly #preallocateBytes: number;
  readonly #readAheadBytes: number;
  readonly #clock: Clock;

  constructor(options: { rootDir: string; preallocateBytes: number; readAheadBytes: number; clock: Clock }) {
    this.#rootDir = options.rootDir;
    this.#preallocateBytes = options.preallocateBytes;
    this.#readAheadBytes = options.readAheadBytes;
    this.#clock = options.clock;
  }

  paths(pchannel: string, segmentId: number): SegmentPaths {
    const dir = path.join(this.#rootDir, pchannel);
    return { dir, data: path.join(dir, `${segmentId}.log`), fence: path.join(dir, `${segmentId}.fence`) };
  }

  async openSink(pchannel: string, segmentId: number, term: bigint): Promise<BlockSink> {
    const paths = this.paths(pchannel, segmentId);
    try {
      await mkdir(paths.dir, { recursive: true });
      // Truncating is safe: the segment's metadata was just created by this writer (create-if-absent),
      // so no other writer ever owned this file.
      // O_DSYNC: each write returns once durable — one thread-pool round trip per block instead of two
      // (write, then fdatasync); measured 5-10 % faster here, same guarantee.
      const fh = await open(paths.data, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC);
      await fsyncDir(paths.dir);
      return new LocalBlockSink(fh, paths, pchannel, segmentId, term, this.#preallocateBytes);
    } catch (e) {
      throw asWalError(e, `pchannel "${pchannel}": create segment file ${paths.data}`);
    }
  }

  async fenceAndRecover(pchannel: string, segmentId: number, term: bigint): Promise<SegmentEnd> {
    const paths = this.paths(pchannel, segmentId);
    const where = `pchannel "${pchannel}": recovery of segment ${segmentId}`;
    try {
      await mkdir(paths.dir, { recursive: true });
      await createFence(paths, term, this.#clock);
    } catch (e) {
      throw asWalError(e, `${where}: create fence ${paths.fence}`);
    }
    let fh: FileHandle;
    try {
      fh = await open(paths.data, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lastEntryId: -1, blocks: 0, bytes: 0 };
      throw asWalError(e, `${where}: open ${paths.data}`);
    }
    try {
      const end = await scanToEnd(new LocalBlockFile(fh, this.#readAheadBytes), pchannel, segmentId, paths.data);
      // The torn tail (and the preallocated hole) is cut, so the completed file holds exactly its blocks.
      await fh.truncate(end.bytes);
      await fh.datasync();
      return end;
    } catch (e) {
      throw asWalError(e, where);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async deleteSegment(pchannel: string, segmentId: number): Promise<void> {
    const paths = this.paths(pchannel, segmentId);
    for (const file of [paths.data, paths.fence]) {
      try {
        await unlink(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw asWalError(e, `pchannel "${pchannel}": delete ${file}`);
        }
      }
    }
  }

  openCursor(pchannel: string, segmentId: number): SegmentCursor {
    const paths = this.paths(pchannel, segmentId);
    return new LocalSegmentCursor(paths.data, paths.fence, pchannel, segmentId, this.#readAheadBytes);
  }
}

/**
 * Scans a segment file from the start and returns the end of its last valid block. Stops at the first
 * offset without a valid, expected block; when a valid block of the segment follows further on, the
 * damage is not a torn tail and the scan fails CORRUPT rather than cut acknowledged data.
 */
export async function scanToEnd(
  file: LocalBlockFile,
  pchannel: string,
  segmentId: number,
  location: string,
): Promise<SegmentEnd> {
  let offset = 0;
  let blockNo = 0;
  let nextEntry = 0;
  // Bounded by the file: every round moves past one block.
  for (;;) {
    const read = await file.blockAt(offset, { segmentId, blockNo, firstEntryId: nextEntry });
    if (read.kind !== 'block') {
      const later = await file.validBlockAfter(offset, segmentId, blockNo);
      if (later !== undefined) {
        throw corruptBlock(
          { pchannel, segmentId, blockNo, location: `file ${location} offset ${offset}` },
          `${read.why}, yet a valid block follows at offset ${later}: damage, not a torn tail`,
        );
      }
      return { lastEntryId: nextEntry - 1, blocks: blockNo, bytes: offset };
    }
    offset = read.nextOffset;
    blockNo++;
    nextEntry += read.header.entryCount;
  }
}

async function createFence(paths: SegmentPaths, term: bigint, clock: Clock): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(paths.fence, 'wx');
  } catch (e) {
    // Already fenced (an earlier takeover that did not finish): the fence is in place, which is all
    // that matters.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  try {
    await fh.writeFile(JSON.stringify({ term: String(term), fencedMs: clock.nowMs() }));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(paths.dir);
}

/** Makes a directory entry (a created or renamed file) durable. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The write side of one local segment file. */
class LocalBlockSink implements BlockSink {
  readonly releasesBlocks = true;
  readonly #fh: FileHandle;
  readonly #paths: SegmentPaths;
  readonly #pchannel: string;
  readonly #segmentId: number;
  readonly #term: bigint;
  readonly #preallocateBytes: number;
  #offset = 0;
  #allocated = 0;
  #closed: Promise<void> | undefined;

  constructor(
    fh: FileHandle,
    paths: SegmentPaths,
    pchannel: string,
    segmentId: number,
    term: bigint,
    preallocateBytes: number,
  ) {
    this.#fh = fh;
    this.#paths = paths;
    this.#pchannel = pchannel;
    this.#segmentId = segmentId;
    this.#term = term;
    this.#preallocateBytes = preallocateBytes;
  }

  get describe(): string {
    return `file ${this.#paths.data} offset ${this.#offset}`;
  }

  async writeBlock(_blockNo: number, block: Buffer, chained: boolean): Promise<BlockWriteOutcome> {
    // A synchronous stat (~0.5 µs, cheaper than a thread-pool round trip) keeps a fenced writer from even
    // writing its next block. A chained block skips it: the check that ended the previous write ran in
    // this same turn of the event loop, with no I/O callback since — a fence that appeared since raced it
    // exactly as one appearing between a check here and the write landing (a thread-pool hop later) would,
    // and the check after the write catches both. And an append made after a new writer's open returned
    // reaches this process by I/O, so it is cut in a later turn and checked here. Under load that halves
    // the stats per block.
    // The file is O_DSYNC: the write returns once durable.
    if (!chained && existsSync(this.#paths.fence)) {
      throw fencedError(this.#pchannel, this.#term, `segment ${this.#segmentId} was fenced by a newer writer`);
    }
    const end = this.#offset + block.byteLength;
    try {
      if (this.#preallocateBytes > 0 && end > this.#allocated) {
        // Node has no fallocate. Extending the file sparsely ahead of the data means a block write no
        // longer changes the file size, so the sync need not commit an inode update: measured here for
        // 1 KiB blocks, p50 118 µs vs 177 µs when appending, as fast as a zero-filled file and free
        // (zero-filling costs a second write of every byte; inline, it made p99 worse, not better).
        this.#allocated = end + this.#preallocateBytes;
        await this.#fh.truncate(this.#allocated);
      }
      let written = 0;
      // Bounded: a regular file write returns > 0 bytes or throws.
      while (written < block.byteLength) {
        const { bytesWritten } = await this.#fh.write(
          block,
          written,
          block.byteLength - written,
          this.#offset + written,
        );
        written += bytesWritten;
      }
    } catch (e) {
      throw asWalError(
        e,
        `pchannel "${this.#pchannel}": write of segment ${this.#segmentId} at offset ${this.#offset}`,
      );
    }
    this.#offset = end;
    return existsSync(this.#paths.fence) ? 'fenced-after-write' : 'durable';
  }

  async finish(end: SegmentEnd): Promise<void> {
    try {
      await this.#fh.truncate(end.bytes);
    } catch {
      // Only the preallocated hole stays behind; readers stop at its zeros.
    }
    await this.close();
  }

  async repair(acked: SegmentEnd): Promise<SegmentEnd> {
    try {
      // After a failed write or fdatasync the page cache cannot be trusted (it may show data that never
      // reached the disk), so the file is cut back to what was acknowledged and that cut made durable.
      await this.#fh.truncate(acked.bytes);
      await this.#fh.datasync();
    } catch (e) {
      throw asWalError(e, `pchannel "${this.#pchannel}": repair of segment ${this.#segmentId}`);
    }
    this.#offset = acked.bytes;
    return acked;
  }

  close(): Promise<void> {
    this.#closed ??= this.#fh.close().catch(() => {});
    return this.#closed;
  }
}
