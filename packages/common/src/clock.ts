import { abortReason } from './abort.js';

/**
 * The time port. Code that depends on time takes a `Clock` so unit tests run without real time
 * (`ManualClock`) and production uses `systemClock`.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (may jump; TSO logic guards against that). */
  nowMs(): number;
  /** Resolves after `ms`; rejects with the signal's reason on abort. */
  sleep(ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void>;
}

/** The real clock: `Date.now()` and timers. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms, options) =>
    new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface Sleeper {
  readonly wakeAtMs: number;
  readonly resolve: () => void;
}

/** A clock that moves only when told to; sleeps resolve as `advance` passes their deadline. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  nowMs(): number {
    return this.#now;
  }

  /** Number of sleeps not yet woken. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, options?: { signal?: AbortSignal | undefined }): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAtMs: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms` (or to `nowMs() + ms`) and wakes every sleep that is due, in order. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Sets the time (may go backwards, to test clock jumps) and wakes every sleep that is due. */
  set(nowMs: number): void {
    this.#now = nowMs;
    const due = this.#sleepers.filter((s) => s.wakeAtMs <= nowMs).sort((a, b) => a.wakeAtMs - b.wakeAtMs);
    this.#sleepers = this.#sleepers.filter((s) => s.wakeAtMs > nowMs);
    for (const s of due) s.resolve();
  }
}
