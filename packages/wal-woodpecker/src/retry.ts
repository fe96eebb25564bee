import type { Clock } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

/** How long and how fast {@link retryUnavailable} retries. */
export interface RetryPolicy {
  readonly clock: Clock;
  /** Give up after this long (the last error is thrown). */
  readonly deadlineMs: number;
  readonly initialMs?: number;
  readonly maxMs?: number;
}

/**
 * Runs `op`, retrying while it fails with the retriable UNAVAILABLE, with exponential backoff, until
 * `deadlineMs` has passed. Any other error is thrown at once.
 */
export async function retryUnavailable<T>(op: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const start = policy.clock.nowMs();
  let delay = policy.initialMs ?? 20;
  // Bounded by the deadline.
  for (;;) {
    try {
      return await op();
    } catch (e) {
      const retriable = WalError.is(e, WalErrorCode.UNAVAILABLE) && e.retriable;
      if (!retriable || policy.clock.nowMs() - start + delay > policy.deadlineMs) throw e;
      await policy.clock.sleep(delay);
      delay = Math.min(delay * 2, policy.maxMs ?? 1000);
    }
  }
}

/**
 * Polls `read` until it returns a value, with backoff from `initialMs` to `maxMs`, for at most
 * `deadlineMs`; undefined when the deadline passed first.
 */
export async function pollUntil<T>(read: () => Promise<T | undefined>, policy: RetryPolicy): Promise<T | undefined> {
  const start = policy.clock.nowMs();
  let delay = policy.initialMs ?? 20;
  // Bounded by the deadline.
  for (;;) {
    // A transient failure of one poll is just a poll without an answer.
    const value = await read().catch((e: unknown) => {
      if (WalError.is(e, WalErrorCode.UNAVAILABLE) && e.retriable) return undefined;
      throw e;
    });
    if (value !== undefined) return value;
    if (policy.clock.nowMs() - start + delay > policy.deadlineMs) return undefined;
    await policy.clock.sleep(delay);
    delay = Math.min(delay * 2, policy.maxMs ?? 500);
  }
}
