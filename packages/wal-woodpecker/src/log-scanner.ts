import { CloseOnce } from '@streamsvc/common';
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { BlockHeader } from './block-codec.js';
import { recordsOf } from './block-codec.js';
import { decodeEntry } from './entry-codec.js';
import { corruptBlock } from './errors.js';
import type { SegmentMeta } from './log-meta.js';
import type { LogPosition } from './message-ids.js';
import type { LogContext } from './open-writer.js';
import type { NoBlock, SegmentCursor } from './segment-store.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** The block being delivered: its records from the next entry on. */
interface OpenBlock {
  readonly header: BlockHeader;
  readonly records: Generator<Uint8Array>;
  nextEntryId: number;
  /** Entries after this one are beyond the segment's recorded end (never delivered). */
  readonly lastEntryId: number;
}

/**
 * Reads one log in id order from a position and follows its tail until closed.
 *
 * - Catch-up: segment after segment through the medium's cursor (read-ahead chunks / parallel GETs);
 *   a completed segment is read exactly up to its recorded last entry — blocks beyond it (a fenced
 *   writer's) are never delivered, and data missing before it is CORRUPT, never skipped.
 * - Tail, writer in this process: bounded by what the writer acknowledged, woken by its publications;
 *   no timer runs while the log is idle.
 * - Tail, writer elsewhere: polls the next block (header / HEAD) with backoff `pollInitialMs` →
 *   `pollMaxMs`, and the segment's metadata to notice a roll.
 */
export class LogScanner implements BackendScanner, AsyncIterableIterator<ImmutableMessage> {
  readonly #ctx: LogContext;
  readonly #onClose: (scanner: LogScanner) => void;
  readonly #close = new CloseOnce();
  readonly #stop = new AbortController();
  #pos: LogPosition;
  #info: SegmentMeta | undefined;
  #refresh = true;
  #cursor: SegmentCursor | undefined;
  #block: OpenBlock | undefined;
  #backoffMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  // A CORRUPT error is final: retrying must not step over the damaged entry.
  #corrupt: unknown;

  constructor(ctx: LogContext, start: LogPosition, onClose: (scanner: LogScanner) => void) {
    this.#ctx = ctx;
    this.#pos = start;
    this.#onClose = onClose;
    this.#backoffMs = ctx.settings.pollInitialMs;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next record; waits at the tail until one is durable or the scanner closes.
   * @throws {WalError} CORRUPT naming the segment and block when stored data fails its checks;
   *   UNAVAILABLE when the storage cannot be read (the position is kept: call again to retry).
   */
  next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    const result = this.#queue.then(() => this.#next());
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Ends the iteration (called by `break` in `for await`). */
  async return(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    await this.close();
    return DONE;
  }

  /** Ends the iteration: a pending `next()` resolves done, and so does every later one. Idempotent. */
  close(): Promise<void> {
    if (!this.#close.started) {
      this.#stop.abort();
      this.#onClose(this);
    }
    return this.#close.run(async () => {
      await this.#queue;
      await this.#cursor?.close();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    if (this.#corrupt !== undefined) throw this.#corrupt;
    try {
      // Bounded by the log: every round delivers, moves forward, or waits.
      for (;;) {
        if (this.#stop.signal.aborted) return DONE;
        const message = this.#fromBlock();
        if (message !== undefined) return { done: false, value: message };
        await this.#fill();
      }
    } catch (e) {
      if (WalError.is(e, WalErrorCode.CORRUPT)) this.#corrupt = e;
      throw e;
    }
  }

  #fromBlock(): ImmutableMessage | undefined {
    const block = this.#block;
    if (block === undefined) return undefined;
    for (;;) {
      if (block.nextEntryId > block.lastEntryId) break;
      const next = block.records.next();
      if (next.done === true) break;
      const entryId = block.nextEntryId++;
      if (entryId < this.#pos.entryId) continue;
      const { segmentId } = this.#pos;
      const message = decodeEntry(next.value, this.#ctx.pchannel, segmentId, entryId);
      this.#pos = { segmentId, entryId: entryId + 1 };
      return message;
    }
    this.#block = undefined;
    return undefined;
  }

  /** Loads the next block at the position, or moves to the next segment, or waits. */
  async #fill(): Promise<void> {
    const { meta, tail } = this.#ctx;
    const segmentId = this.#pos.segmentId;
    if (this.#refresh || this.#info?.segmentId !== segmentId) {
      this.#info = await meta.segment(segmentId);
      this.#refresh = false;
    }
    const info = this.#info;
    if (info === undefined) return this.#missingSegment(segmentId);
    if (info.state === 'truncated' || (info.state === 'completed' && this.#pos.entryId > info.lastEntryId)) {
      return this.#moveTo(segmentId + 1);
    }
    const writer = tail.writer;
    if (info.state === 'active' && writer !== undefined) {
      if (writer.segmentId === segmentId && this.#pos.entryId > writer.lastEntryId) return this.#wait(true, false);
      if (writer.segmentId > segmentId) {
        // The writer moved on; the metadata (completed before the writer published) tells where this ended.
        this.#refresh = true;
        this.#info = await meta.segment(segmentId);
        this.#refresh = false;
        if (this.#info?.state !== 'active') return;
      }
    }
    const cursor = await this.#cursorFor(info);
    const read = await cursor.read();
    if (read.kind === 'block') {
      const { header } = read;
      const last = header.firstEntryId + header.entryCount - 1;
      if (last < this.#pos.entryId) return;
      const bound = info.state === 'completed' ? info.lastEntryId : Number.MAX_SAFE_INTEGER;
      if (header.firstEntryId > bound) return this.#moveTo(segmentId + 1);
      const acknowledgedHere = writer?.segmentId === segmentId && last <= writer.lastEntryId;
      if (info.state === 'active' && !acknowledgedHere && (await cursor.fenced())) {
        // Read after a takeover began: only the new writer's recorded end says whether it counts.
        await this.#moveTo(segmentId, this.#pos.entryId);
        return this.#wait(false, false);
      }
      this.#block = {
        header,
        records: recordsOf(read.payload, header),
        nextEntryId: header.firstEntryId,
        lastEntryId: Math.min(last, bound),
      };
      this.#backoffMs = this.#ctx.settings.pollInitialMs;
      return;
    }
    return this.#noBlock(info, read);
  }

  /** Nothing readable at the position: damage in a finished segment, else not there yet. */
  async #noBlock(info: SegmentMeta, read: NoBlock): Promise<void> {
    const { pchannel, tail } = this.#ctx;
    const where = { pchannel, segmentId: info.segmentId, blockNo: read.blockNo, location: read.location };
    if (info.state === 'completed') {
      throw corruptBlock(
        where,
        `${read.why}, but the segment's recorded last entry is ${info.lastEntryId} and entry ${this.#pos.entryId} was never read: data is missing`,
      );
    }
    const writer = tail.writer;
    if (writer?.segmentId === info.segmentId && this.#pos.entryId <= writer.lastEntryId) {
      throw corruptBlock(where, `${read.why}, but entry ${writer.lastEntryId} of this segment was acknowledged`);
    }
    // A torn block at the tail of a segment being written elsewhere is a write in progress, a fence
    // ends the segment: wait, and decide once the segment is completed. Only "nothing there yet" may
    // skip the metadata check when the probe sees something arrive.
    this.#refresh = true;
    return this.#wait(false, read.kind === 'none');
  }

  async #missingSegment(segmentId: number): Promise<void> {
    // Deleted by truncation (continue at the first retained segment) or not created yet (wait).
    const later = (await this.#ctx.meta.segments()).find((s) => s.segmentId > segmentId && s.state !== 'truncated');
    if (later !== undefined) return this.#moveTo(later.segmentId);
    this.#refresh = true;
    return this.#wait(false, false);
  }

  async #moveTo(segmentId: number, entryId = 0): Promise<void> {
    await this.#cursor?.close();
    this.#cursor = undefined;
    this.#block = undefined;
    this.#pos = { segmentId, entryId };
    this.#refresh = true;
  }

  async #cursorFor(info: SegmentMeta): Promise<SegmentCursor> {
    const cursor = this.#cursor;
    if (cursor !== undefined) return cursor;
    const knownBlocks = info.state === 'completed' ? info.blocks : undefined;
    const created = this.#ctx.store.openCursor(this.#ctx.pchannel, info.segmentId, { knownBlocks });
    this.#cursor = created;
    if (this.#pos.entryId > 0) await created.seek(this.#pos.entryId);
    return created;
  }

  /**
   * Waits for the log to change. With the writer in this process (`notified`), only its next
   * publication wakes the scanner: no timer. Otherwise a poll after a backoff delay, doubling up to
   * `pollMaxMs`; an in-process publication (a writer opening here) cuts it short.
   */
  async #wait(notified: boolean, probe: boolean): Promise<void> {
    const { tail, clock, settings } = this.#ctx;
    const signal = this.#stop.signal;
    if (notified) {
      await tail.next(signal);
      return;
    }
    const timer = new AbortController();
    const onStop = (): void => timer.abort();
    signal.addEventListener('abort', onStop, { once: true });
    try {
      await Promise.race([
        clock.sleep(this.#backoffMs, { signal: timer.signal }).catch(() => {}),
        tail.next(timer.signal),
      ]);
    } finally {
      timer.abort();
      signal.removeEventListener('abort', onStop);
    }
    this.#backoffMs = Math.min(this.#backoffMs * 2, settings.pollMaxMs);
    // The cheap probe (next header / HEAD): when something arrived, read it; else ask the metadata
    // whether the segment was completed meanwhile (a roll, or a takeover elsewhere).
    const cursor = this.#cursor;
    if (probe && cursor !== undefined && this.#info?.state === 'active' && !signal.aborted) {
      this.#refresh = !(await cursor.probe());
    }
  }
}
