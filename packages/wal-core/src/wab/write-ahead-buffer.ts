import { systemClock } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';
import type { ImmutableMessage } from '@streamsvc/message';

export interface WriteAheadBufferOptions {
  /** Bytes of messages kept (by `estimateSize`). Default 64 MiB. */
  readonly capacityBytes?: number;
  /** Age after which a message is evicted. Default 30 s. */
  readonly keepaliveMs?: number;
  readonly clock?: Clock;
}

/**
 * What a buffered message costs beyond its payload and property bytes: the message object, its
 * property map and strings, the entry. Counting it keeps the capacity honest for small messages,
 * where the overhead is most of the memory (measured roughly with heap snapshots of 1 KiB messages).
 */
const ENTRY_OVERHEAD_BYTES = 640;

interface Entry {
  readonly message: ImmutableMessage;
  readonly size: number;
  readonly expireAtMs: number;
}

/** What a cursor yields: the next messages in tt order, or the news that the buffer dropped what it needed. */
export type WabRead =
  { readonly kind: 'messages'; readonly messages: readonly ImmutableMessage[] } | { readonly kind: 'evicted' };

/**
 * The write-ahead buffer: the WAL's most recent messages in time-tick order, so readers at the tail are
 * served from memory instead of the backend. The time-tick sync pushes one group per tick — the appends
 * confirmed below it, sorted by tt, then the tick — so the buffer is always a tt-sorted prefix-closed
 * range: every message with tt above `floorTt` is in it (or not yet pushed).
 *
 * Eviction by size and age drops the oldest entries, never the newest one, and raises `floorTt`. A
 * tick that carried no data (not persisted) does not enter the queue; it only becomes `lastTick`, which
 * tailing readers deliver so their consumers' safe time keeps moving.
 */
export class WriteAheadBuffer {
  readonly #capacityBytes: number;
  readonly #keepaliveMs: number;
  readonly #clock: Clock;
  #entries: Entry[] = [];
  /** Index in #entries of the oldest live entry (entries before it were evicted; compacted lazily). */
  #head = 0;
  /** Absolute offset of #entries[#head]. */
  #headOffset = 0;
  #bytes = 0;
  #floorTt: bigint;
  #lastTick: ImmutableMessage;
  #changed: { promise: Promise<void>; wake: () => void };
  #closed = false;

  constructor(firstTick: ImmutableMessage, options: WriteAheadBufferOptions = {}) {
    this.#capacityBytes = options.capacityBytes ?? 64 * 1024 * 1024;
    this.#keepaliveMs = options.keepaliveMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
    this.#floorTt = firstTick.timeTick;
    this.#lastTick = firstTick;
    this.#changed = signal();
  }

  /** Every message with a time tick above this is in the buffer (or will be pushed). */
  get floorTt(): bigint {
    return this.#floorTt;
  }

  /** The newest tick, persisted or not. */
  get lastTick(): ImmutableMessage {
    return this.#lastTick;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * Appends one tick's group. `messages` must be sorted by tt, all above the previous tick and below
   * `tick`; the WAL's time-tick sync guarantees it (and this checks, because a violation would break
   * every tailing reader's order).
   */
  push(messages: readonly ImmutableMessage[], tick: ImmutableMessage): void {
    if (this.#closed) return;
    let prev = this.#lastTick.timeTick;
    for (const m of messages) {
      if (m.timeTick <= prev) throw outOfOrder(m.timeTick, prev);
      prev = m.timeTick;
    }
    if (tick.timeTick < prev) throw outOfOrder(tick.timeTick, prev);
    if (messages.length > 0 || !tick.notPersisted) {
      const expireAtMs = this.#clock.nowMs() + this.#keepaliveMs;
      for (const message of messages) this.#add(message, expireAtMs);
      this.#add(tick, expireAtMs);
    }
    this.#lastTick = tick;
    this.#evict();
    const changed = this.#changed;
    this.#changed = signal();
    changed.wake();
  }

  /**
   * A cursor over every message with a time tick above `tt`, or `undefined` when the buffer no longer
   * holds all of them (`tt` below the floor): the reader must catch up from the backend instead.
   */
  readAfter(tt: bigint): WabCursor | undefined {
    if (tt < this.#floorTt || this.#closed) return undefined;
    // Entries are sorted by tt: binary search for the first one above `tt`.
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#entries[mid]!.message.timeTick <= tt) lo = mid + 1;
      else hi = mid;
    }
    return new WabCursor(this, this.#headOffset + (lo - this.#head), tt);
  }

  /** Wakes every waiting cursor; later reads end. */
  close(): void {
    this.#closed = true;
    this.#changed.wake();
  }

  /** @internal cursor support: the entry at absolute `offset`, 'evicted', 'end' or 'closed'. */
  entryAt(offset: number): Entry | 'evicted' | 'end' | 'closed' {
    if (offset < this.#headOffset) return 'evicted';
    const i = this.#head + (offset - this.#headOffset);
    if (i < this.#entries.length) return this.#entries[i]!;
    return this.#closed ? 'closed' : 'end';
  }

  /** @internal resolves on the next push (or close). */
  changed(): Promise<void> {
    return this.#changed.promise;
  }

  #add(message: ImmutableMessage, expireAtMs: number): void {
    const size = message.estimateSize() + ENTRY_OVERHEAD_BYTES;
    this.#entries.push({ message, size, expireAtMs });
    this.#bytes += size;
  }

  #evict(): void {
    const now = this.#clock.nowMs();
    while (this.length > 1) {
      const head = this.#entries[this.#head]!;
      if (this.#bytes <= this.#capacityBytes && head.expireAtMs > now) break;
      this.#bytes -= head.size;
      this.#floorTt = head.message.timeTick;
      this.#head++;
      this.#headOffset++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A reader's position in the buffer. */
export class WabCursor {
  readonly #wab: WriteAheadBuffer;
  #offset: number;
  #lastTt: bigint;

  constructor(wab: WriteAheadBuffer, offset: number, afterTt: bigint) {
    this.#wab = wab;
    this.#offset = offset;
    this.#lastTt = afterTt;
  }

  /**
   * The next messages in tt order (up to `max`), waiting for one when at the end. At the end it also
   * yields the newest not-persisted tick when that is above what was read. Resolves `evicted` when the
   * buffer dropped the next entry (the reader was too slow) and `undefined` when the buffer closed.
   * Batches, because a tailing reader pays one await per call, not per message.
   * Abort: stops waiting; rejects with the signal's reason.
   */
  async next(signal?: AbortSignal, max = 512): Promise<WabRead | undefined> {
    for (;;) {
      signal?.throwIfAborted();
      const messages: ImmutableMessage[] = [];
      for (;;) {
        const entry = this.#wab.entryAt(this.#offset);
        if (entry === 'evicted') return messages.length > 0 ? { kind: 'messages', messages } : { kind: 'evicted' };
        if (entry === 'closed') return messages.length > 0 ? { kind: 'messages', messages } : undefined;
        if (entry === 'end' || messages.length >= max) break;
        this.#offset++;
        // A cursor opened after a tick the buffer had not received yet (a catch-up reader saw it in
        // the backend first) starts below entries it has already delivered: skip those.
        if (entry.message.timeTick <= this.#lastTt) continue;
        this.#lastTt = entry.message.timeTick;
        messages.push(entry.message);
      }
      const tick = this.#wab.lastTick;
      if (tick.timeTick > this.#lastTt && messages.length < max) {
        this.#lastTt = tick.timeTick;
        messages.push(tick);
      }
      if (messages.length > 0) return { kind: 'messages', messages };
      await waitOrAbort(this.#wab.changed(), signal);
    }
  }
}

function outOfOrder(tt: bigint, prev: bigint): Error {
  return new Error(`[wal] write-ahead buffer: tt ${tt} after ${prev} breaks time-tick order`);
}

function signal(): { promise: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const promise = new Promise<void>((resolve) => (wake = resolve));
  return { promise, wake };
}

function waitOrAbort(promise: Promise<void>, abort: AbortSignal | undefined): Promise<void> {
  if (!abort) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abort.reason);
    abort.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      abort.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
