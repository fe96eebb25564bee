import { noopLogger, raceAbort, systemClock, throwIfAborted } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';

import { TsoError, TsoErrorCode } from './errors.js';
import type { TsoSource } from './global-allocator.js';

export interface BatchTsoAllocatorOptions {
  /** Where blocks come from: the global allocator in-process, or a client of the coordinator. */
  readonly source: TsoSource;
  /** Timestamps fetched per refill. Default 1000. */
  readonly batchSize?: number;
  /**
   * A block older than this is dropped and refilled, so timestamps track wall time: a message's tt
   * must not be seconds older than its append (consistency waits would grow). Default 50 ms.
   */
  readonly maxStalenessMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * A node-local allocator that takes blocks of timestamps from a {@link TsoSource} and hands them out
 * one at a time. One instance serves every WAL on a node; timestamps are globally ordered because the
 * source is. Concurrent callers that find the block empty share one refill.
 */
export class BatchTsoAllocator {
  readonly #source: TsoSource;
  readonly #batchSize: number;
  readonly #maxStalenessMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #next = 0n;
  #end = 0n;
  #fetchedAtMs = -Infinity;
  #refilling: Promise<void> | undefined;
  #refills = 0;

  constructor(options: BatchTsoAllocatorOptions) {
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 262_143) {
      throw new TsoError(TsoErrorCode.INVALID_ARGUMENT, `batchSize must be an integer in 1..262143, got ${batchSize}`);
    }
    this.#source = options.source;
    this.#batchSize = batchSize;
    this.#maxStalenessMs = options.maxStalenessMs ?? 50;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'tso-batch' });
  }

  /** Number of blocks fetched from the source so far. */
  get refillCount(): number {
    return this.#refills;
  }

  /**
   * The next timestamp: greater than every one this allocator returned before, and taken from a block
   * fetched at most `maxStalenessMs` ago.
   * @throws {TsoError} whatever the source throws (UNAVAILABLE, FENCED, CLOSED).
   * Abort: stops waiting for a refill; nothing is consumed.
   */
  async allocate(options?: CallOptions): Promise<bigint> {
    for (let attempt = 0; attempt < 100; attempt++) {
      throwIfAborted(options?.signal);
      const ts = this.tryAllocate();
      if (ts !== undefined) return ts;
      await this.refill(options);
    }
    throw new TsoError(TsoErrorCode.UNAVAILABLE, 'refills keep running dry; the source is too slow');
  }

  /**
   * The next timestamp if the current block has one and is fresh, else `undefined` (then await
   * {@link refill} and try again). Synchronous, so a caller can allocate and record the timestamp
   * without any other allocation slipping in between — the WAL's ack manager relies on that.
   */
  tryAllocate(): bigint | undefined {
    if (this.#next < this.#end && this.#clock.nowMs() - this.#fetchedAtMs <= this.#maxStalenessMs) {
      return this.#next++;
    }
    return undefined;
  }

  /**
   * Fetches a fresh block; concurrent callers share one fetch.
   * @throws {TsoError} whatever the source throws.
   * Abort: stops waiting; the fetch itself completes for the other callers.
   */
  refill(options?: CallOptions): Promise<void> {
    return raceAbort(this.#refill(), options?.signal);
  }

  /**
   * Drops the current block so the next allocation fetches a fresh one. A WAL calls this before its
   * first time tick so that tick is above everything the previous owner of the channel wrote.
   */
  sync(): void {
    this.#end = this.#next;
  }

  #refill(): Promise<void> {
    this.#refilling ??= (async () => {
      try {
        const first = await this.#source.allocate(this.#batchSize);
        // A refill that raced with sync() or another refill never moves backwards.
        if (first >= this.#next) {
          this.#next = first;
          this.#end = first + BigInt(this.#batchSize);
          this.#fetchedAtMs = this.#clock.nowMs();
          this.#refills++;
        } else {
          this.#log.warn({ first, next: this.#next }, 'source returned a block below the current one; ignored');
        }
      } finally {
        this.#refilling = undefined;
      }
    })();
    return this.#refilling;
  }
}
