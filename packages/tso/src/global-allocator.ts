import { noopLogger, raceAbort, systemClock, throwIfAborted } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { MetaKv } from '@streamsvc/metastore';

import { TsoError, TsoErrorCode } from './errors.js';
import { LOGICAL_PER_MS, composeTs } from './hybrid-ts.js';

/** Anything that hands out blocks of consecutive hybrid timestamps: the global allocator, or an RPC to it. */
export interface TsoSource {
  /**
   * Allocates `count` consecutive timestamps and resolves with the first; the block is
   * `[first, first + count)`. Every block is greater than every block handed out before.
   * @throws {TsoError} INVALID_ARGUMENT for a count outside 1..262143; FENCED, CLOSED, UNAVAILABLE.
   * Abort: stops waiting; the block, if any was reserved, is skipped (never reissued).
   */
  allocate(count: number, options?: CallOptions): Promise<bigint>;
}

/** The part of the MetaKV port the allocator uses. */
export type TsoKv = Pick<MetaKv, 'get' | 'txn'>;

export interface GlobalTsoAllocatorOptions {
  readonly kv: TsoKv;
  /** Key holding the persisted upper bound (decimal Unix ms). Default `tso/timestamp`. */
  readonly key?: string;
  /** How far ahead of the current physical time the persisted bound is set. Default 3000 ms. */
  readonly windowMs?: number;
  /** How often physical time catches up with the wall clock and the window is renewed. Default 50 ms. */
  readonly updateIntervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

const DEFAULT_KEY = 'tso/timestamp';
const MAX_COUNT = LOGICAL_PER_MS - 1;

/**
 * The cluster's single source of hybrid timestamps.
 *
 * It persists only an upper bound B of the physical part (`now + windowMs`) in MetaKV and never issues
 * a timestamp whose physical part reaches B; after a crash the next allocator starts at
 * `max(now, B)`, so no timestamp is ever issued twice even though nothing is written per allocation.
 * The bound is renewed in the background when half the window is used, so at any allocation rate the
 * store sees about `2000 / windowMs` writes per second. Renewal is a compare-and-swap on the key's
 * modRevision: if another allocator wrote it, this one is fenced and stops issuing.
 *
 * Physical time follows the wall clock (checked every `updateIntervalMs`) but never goes backwards;
 * when the logical counter of a millisecond runs out, allocation waits for the next millisecond.
 */
export class GlobalTsoAllocator implements TsoSource, AsyncDisposable {
  readonly #kv: TsoKv;
  readonly #key: string;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #physical: number;
  #logical = 0;
  /** Persisted exclusive upper bound of the physical part. */
  #bound: number;
  #modRevision: bigint;
  #renewing: Promise<void> | undefined;
  readonly #stopTicker = new AbortController();
  #failure: TsoError | undefined;
  #closed = false;
  #persists = 0;

  private constructor(options: GlobalTsoAllocatorOptions, physical: number, bound: number, modRevision: bigint) {
    this.#kv = options.kv;
    this.#key = options.key ?? DEFAULT_KEY;
    this.#windowMs = options.windowMs ?? 3000;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'tso' });
    this.#physical = physical;
    this.#bound = bound;
    this.#modRevision = modRevision;
  }

  /**
   * Reads the persisted bound, starts above it, and persists a new window before returning.
   * @throws {TsoError} FENCED when another allocator renewed the window concurrently; INVALID_ARGUMENT
   *   when the stored bound is not a number; UNAVAILABLE when the metastore fails.
   */
  static async open(options: GlobalTsoAllocatorOptions): Promise<GlobalTsoAllocator> {
    const key = options.key ?? DEFAULT_KEY;
    const windowMs = options.windowMs ?? 3000;
    if (!Number.isInteger(windowMs) || windowMs < 10) {
      throw new TsoError(TsoErrorCode.INVALID_ARGUMENT, `windowMs must be an integer ≥ 10, got ${windowMs}`);
    }
    const clock = options.clock ?? systemClock;
    const stored = await wrapKv(() => options.kv.get(key), 'read the window');
    let saved = 0;
    if (stored) {
      saved = Number(new TextDecoder().decode(stored.value));
      if (!Number.isSafeInteger(saved) || saved < 0) {
        throw new TsoError(TsoErrorCode.INVALID_ARGUMENT, `the persisted window at "${key}" is not a Unix ms value`);
      }
    }
    const physical = Math.max(clock.nowMs(), saved);
    const allocator = new GlobalTsoAllocator(options, physical, physical, stored?.modRevision ?? 0n);
    await allocator.#persist(physical + windowMs);
    allocator.#log.info({ physicalMs: physical, boundMs: allocator.#bound }, 'tso allocator opened');
    void allocator.#runTicker(options.updateIntervalMs ?? 50);
    return allocator;
  }

  /** Number of window writes to MetaKV since open (for the benchmark and metrics). */
  get persistCount(): number {
    return this.#persists;
  }

  /** The persisted exclusive upper bound of the physical part, in Unix ms. */
  get boundMs(): number {
    return this.#bound;
  }

  /**
   * Allocates `count` consecutive timestamps without waiting, or returns `undefined` when the caller
   * must go through {@link allocate} (window exhausted, logical overflow, failure, closed).
   */
  tryAllocate(count = 1): bigint | undefined {
    if (this.#logical + count > LOGICAL_PER_MS || this.#physical >= this.#bound || this.#failure || this.#closed) {
      return undefined;
    }
    if (!Number.isInteger(count) || count < 1) return undefined;
    const first = composeTs(this.#physical, this.#logical);
    this.#logical += count;
    return first;
  }

  allocate(count = 1, options?: CallOptions): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      return Promise.reject(
        new TsoError(TsoErrorCode.INVALID_ARGUMENT, `count must be an integer in 1..${MAX_COUNT}, got ${count}`),
      );
    }
    const ts = this.tryAllocate(count);
    return ts === undefined ? this.#allocateSlow(count, options) : Promise.resolve(ts);
  }

  /** Stops the background renewal; later allocations reject with CLOSED. The bound stays persisted. */
  close(): Promise<void> {
    this.#closed = true;
    this.#stopTicker.abort();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #allocateSlow(count: number, options: CallOptions | undefined): Promise<bigint> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(options?.signal);
      this.#throwIfUnusable();
      if (this.#logical + count > LOGICAL_PER_MS) {
        // This millisecond is used up: wait for the wall clock to pass it rather than run ahead of it.
        const now = this.#clock.nowMs();
        if (now <= this.#physical) await this.#clock.sleep(this.#physical - now + 1, options);
        this.#advanceTo(Math.max(this.#clock.nowMs(), this.#physical + 1));
      }
      if (this.#physical >= this.#bound) await this.#renew(options);
      const ts = this.tryAllocate(count);
      if (ts !== undefined) return ts;
      if (attempt > 1000)
        throw new TsoError(TsoErrorCode.UNAVAILABLE, 'cannot allocate: window renewal does not keep up');
    }
  }

  #throwIfUnusable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new TsoError(TsoErrorCode.CLOSED, 'allocate on a closed allocator');
  }

  #advanceTo(physical: number): void {
    if (physical > this.#physical) {
      this.#physical = physical;
      this.#logical = 0;
    }
  }

  async #runTicker(intervalMs: number): Promise<void> {
    const signal = this.#stopTicker.signal;
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(intervalMs, { signal });
      } catch {
        return; // closed or fenced
      }
      this.#tick();
    }
  }

  /** Every `updateIntervalMs`: follow the wall clock within the window, renew the window at half use. */
  #tick(): void {
    if (this.#closed || this.#failure) return;
    const now = this.#clock.nowMs();
    this.#advanceTo(Math.min(now, this.#bound - 1));
    if (this.#bound - Math.max(now, this.#physical) < this.#windowMs / 2) {
      this.#renew().catch((e: unknown) => this.#log.warn({ err: e }, 'tso window renewal failed; will retry'));
    }
  }

  /** Persists `max(now, physical) + windowMs` once at a time; callers share the in-flight renewal. */
  #renew(options?: CallOptions): Promise<void> {
    this.#renewing ??= this.#persist(Math.max(this.#clock.nowMs(), this.#physical) + this.#windowMs).finally(() => {
      this.#renewing = undefined;
    });
    return raceAbort(this.#renewing, options?.signal);
  }

  async #persist(bound: number): Promise<void> {
    if (bound <= this.#bound && this.#persists > 0) return;
    const value = String(bound);
    const result = await wrapKv(
      () =>
        this.#kv.txn({
          compare: [{ key: this.#key, target: 'modRevision', op: '==', value: this.#modRevision }],
          success: [
            { type: 'put', key: this.#key, value },
            { type: 'get', key: this.#key },
          ],
        }),
      'persist the window',
    );
    if (!result.succeeded) {
      this.#failure = new TsoError(
        TsoErrorCode.FENCED,
        `another allocator renewed "${this.#key}"; this allocator stops issuing timestamps`,
      );
      this.#stopTicker.abort();
      this.#log.error({ key: this.#key }, 'tso allocator fenced');
      throw this.#failure;
    }
    this.#modRevision = result.results[1]?.modRevision ?? result.revision;
    this.#bound = bound;
    this.#persists++;
  }
}

async function wrapKv<T>(op: () => Promise<T>, what: string): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw new TsoError(TsoErrorCode.UNAVAILABLE, `cannot ${what}: ${(e as Error).message}`, { cause: e });
  }
}
