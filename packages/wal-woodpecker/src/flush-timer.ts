import type { Clock } from '@streamsvc/common';

/**
 * Object mode's flush timer: armed when the first entry of a block is queued, fired once
 * `intervalMs` later, disarmed when the queue empties. At most one pending sleep; none while idle.
 */
export class FlushTimer {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onDue: () => void;
  #pending: AbortController | undefined;

  constructor(clock: Clock, intervalMs: number, onDue: () => void) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#onDue = onDue;
  }

  /** Starts the interval unless it is already running. */
  arm(): void {
    if (this.#pending !== undefined) return;
    const pending = new AbortController();
    this.#pending = pending;
    this.#clock.sleep(this.#intervalMs, { signal: pending.signal }).then(
      () => {
        if (this.#pending !== pending) return;
        this.#pending = undefined;
        this.#onDue();
      },
      () => {},
    );
  }

  /** Cancels the interval (and its sleep). */
  disarm(): void {
    this.#pending?.abort();
    this.#pending = undefined;
  }
}
