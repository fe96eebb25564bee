/** Settings of a capped exponential backoff. */
export interface BackoffOptions {
  /** First delay. */
  readonly initialMs: number;
  /** Largest delay. */
  readonly maxMs: number;
  /** Growth factor per attempt; default 2. */
  readonly multiplier?: number;
  /** Each delay is drawn uniformly from [delay × (1 − jitter), delay]; default 0.2, 0 for none. */
  readonly jitter?: number;
}

/**
 * Capped exponential backoff with jitter: `initialMs`, ×`multiplier` per attempt, never above `maxMs`.
 * Jitter keeps many clients that lost the same node from reconnecting in lockstep.
 */
export class Backoff {
  readonly #options: Required<BackoffOptions>;
  readonly #random: () => number;
  #next: number;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = { multiplier: 2, jitter: 0.2, ...options };
    this.#random = random;
    this.#next = options.initialMs;
  }

  /** The delay before the next attempt; grows the one after. */
  next(): number {
    const { maxMs, multiplier, jitter } = this.#options;
    const base = Math.min(this.#next, maxMs);
    this.#next = Math.min(base * multiplier, maxMs);
    return Math.max(0, Math.round(base * (1 - jitter * this.#random())));
  }

  /** Starts over at `initialMs` (after a success). */
  reset(): void {
    this.#next = this.#options.initialMs;
  }
}
