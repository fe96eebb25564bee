import { abortReason } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';

import { compareVersions, EMPTY_TOPOLOGY } from './topology.js';
import type { TopologySnapshot } from './topology.js';

/** Options of {@link TopologyWatcher.wait}. */
export interface TopologyWaitOptions {
  readonly signal?: AbortSignal | undefined;
  /** Give up after this long and resolve `undefined`; absent: wait until the condition holds. */
  readonly timeoutMs?: number | undefined;
}

interface Waiter {
  /** Re-evaluates the condition against the current snapshot; settles and unregisters when it holds. */
  check(): void;
  fail(error: unknown): void;
}

/**
 * The client's view of the topology: the newest snapshot accepted so far (a snapshot replaces it only
 * when its version is strictly greater) and the waits on it — "until pchannel P has an owner", "until P
 * has a term newer than T", "until everything is assigned". Every wait in the client that is not a
 * stream read goes through here, so closing the watcher wakes them all.
 */
export class TopologyWatcher {
  readonly #clock: Clock;
  readonly #waiters = new Set<Waiter>();
  #current: TopologySnapshot = EMPTY_TOPOLOGY;
  #closed: unknown;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The newest accepted snapshot ({@link EMPTY_TOPOLOGY} before the first). */
  get current(): TopologySnapshot {
    return this.#current;
  }

  /** Offers a snapshot; returns true when it was newer and replaced the current one. */
  update(next: TopologySnapshot): boolean {
    if (this.#closed !== undefined || compareVersions(next.version, this.#current.version) <= 0) return false;
    this.#current = next;
    for (const waiter of [...this.#waiters]) waiter.check();
    return true;
  }

  /**
   * Resolves with `select(snapshot)` as soon as it is not undefined (checked now and after every
   * accepted snapshot), or with undefined after `timeoutMs`.
   * Rejects with the abort reason on abort, and with the close error once the watcher is closed.
   */
  wait<T>(select: (t: TopologySnapshot) => T | undefined, options: TopologyWaitOptions = {}): Promise<T | undefined> {
    const { signal, timeoutMs } = options;
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = select(this.#current);
    if (now !== undefined) return Promise.resolve(now);
    if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(undefined);

    return new Promise<T | undefined>((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : new AbortController();
      const finish = (): void => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        timer?.abort();
      };
      const waiter: Waiter = {
        check: () => {
          const value = select(this.#current);
          if (value === undefined) return;
          finish();
          resolve(value);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.fail(abortReason(signal!));
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timer !== undefined) {
        this.#clock.sleep(timeoutMs!, { signal: timer.signal }).then(
          () => {
            finish();
            resolve(undefined);
          },
          () => {}, // cancelled because the wait ended another way
        );
      }
    });
  }

  /** Sleeps `ms` unless aborted or closed: the backoff pause of every retry loop. */
  async sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    await this.wait(() => undefined, { signal, timeoutMs: ms });
  }

  /** Rejects every wait, now and later, with `error`. Idempotent. */
  close(error: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = error;
    for (const waiter of [...this.#waiters]) waiter.fail(error);
  }
}
