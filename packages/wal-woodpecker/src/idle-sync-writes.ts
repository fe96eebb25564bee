import type { Clock } from '@streamsvc/common';

/** A synchronous block write slower than this pauses them: the disk is not idle-fast right now. */
export const SLOW_SYNC_WRITE_MS = 2;
/** How long synchronous writes stay off after a slow one. */
export const SYNC_WRITE_PAUSE_MS = 1_000;

/**
 * Decides, for one local store (one disk), whether a block that is alone — it holds every append
 * pending in the process's logs — is written synchronously on the event loop instead of through the
 * thread pool.
 *
 * Why: at idle an append waits for exactly one block write. Through the thread pool that write costs
 * a hand-off to a worker thread and a wake-up of the event loop when it is done; on small VMs each
 * cross-thread wake-up is tens of µs (measured here: ~30 µs of main-thread CPU just to submit a write,
 * and an idle append ~40 µs faster at p50 when written synchronously). Blocking the loop for one small
 * O_DSYNC write (~0.13 ms here) costs nothing when nothing else is pending — but it would under load,
 * which is why only a block that is alone, small, and written while the disk answers fast is written
 * this way: a synchronous write that takes longer than {@link SLOW_SYNC_WRITE_MS} turns them off for
 * {@link SYNC_WRITE_PAUSE_MS}, so a slow or busy disk never stalls the process for long.
 */
export class IdleSyncWrites {
  readonly #maxBytes: number;
  readonly #clock: Clock;
  #pausedUntilMs = 0;

  /** @param maxBytes the largest block written synchronously; 0 turns synchronous writes off. */
  constructor(maxBytes: number, clock: Clock) {
    this.#maxBytes = maxBytes;
    this.#clock = clock;
  }

  /** Whether a block of `bytes` that is alone may be written synchronously now. */
  allows(bytes: number): boolean {
    return bytes <= this.#maxBytes && this.#clock.nowMs() >= this.#pausedUntilMs;
  }

  /** Runs a synchronous write, timing it; a slow one pauses synchronous writes. */
  run<T>(write: () => T): T {
    const start = this.#clock.nowMs();
    try {
      return write();
    } finally {
      const now = this.#clock.nowMs();
      if (now - start > SLOW_SYNC_WRITE_MS) this.#pausedUntilMs = now + SYNC_WRITE_PAUSE_MS;
    }
  }
}
