import { abortReason } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

/**
 * Caps the bytes a writer holds that are not yet durable. An append takes its size before it is
 * queued and gives it back when its block is acknowledged or failed. Past the cap, appends wait in
 * FIFO order (no overtaking: a big append is not starved by small ones); a wait is bounded and then
 * fails with the retriable UNAVAILABLE, so memory never grows without bound and callers see back
 * pressure instead of a hang.
 */
export class InFlightBudget {
  readonly #maxBytes: number;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;
  readonly #waiters: Waiter[] = [];
  #used = 0;

  constructor(maxBytes: number, maxWaitMs: number, clock: Clock) {
    this.#maxBytes = maxBytes;
    this.#maxWaitMs = maxWaitMs;
    this.#clock = clock;
  }

  /** Bytes taken and not yet released. */
  get used(): number {
    return this.#used;
  }

  /** Appends waiting for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes `bytes` at once when there is room and nobody waits; false otherwise (nothing taken). */
  tryAcquire(bytes: number): boolean {
    if (this.#waiters.length > 0 || this.#used + bytes > this.#maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  /**
   * Takes `bytes`, waiting for room at most `maxWaitMs`.
   * @throws {WalError} UNAVAILABLE (retriable) when no room freed in time. Abort: rejects with the
   *   signal's reason; nothing is taken.
   */
  acquire(bytes: number, description: string, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const timeout = new AbortController();
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        timeout.abort();
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
        // Leaving the queue may let the waiters behind go ahead.
        if (error !== undefined) this.#grant();
      };
      const waiter: Waiter = {
        bytes,
        grant: () => finish(),
      };
      const onAbort = (): void => finish(abortReason(signal!));
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#clock.sleep(this.#maxWaitMs, { signal: timeout.signal }).then(
        () =>
          finish(
            new WalError(
              WalErrorCode.UNAVAILABLE,
              `${description}: ${this.#used} bytes already in flight (cap ${this.#maxBytes}); no room for ${bytes} more within ${this.#maxWaitMs} ms`,
            ),
          ),
        () => {},
      );
    });
  }

  /** Gives `bytes` back and lets waiting appends in, in order. */
  release(bytes: number): void {
    this.#used -= bytes;
    this.#grant();
  }

  #grant(): void {
    // Bounded by the queue: each round grants and removes the head.
    for (let head = this.#waiters[0]; head !== undefined; head = this.#waiters[0]) {
      if (this.#used + head.bytes > this.#maxBytes) return;
      this.#used += head.bytes;
      head.grant();
    }
  }
}
