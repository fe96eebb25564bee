/**
 * A wait that gave up: the backend did not answer in time. Distinct from assertion failures so helpers
 * that expect a rejection never mistake their own timeout for the backend's answer.
 */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Waits for `promise` for at most `timeoutMs`, so a broken backend fails the scenario fast with a
 * message saying what it was waiting for, instead of hanging until the test runner's timeout.
 *
 * The timer is not `unref()`ed on purpose: a plain script awaiting a backend that never answers must
 * fail, not exit silently because nothing else keeps the event loop alive.
 * @throws {WaitTimeoutError} naming `what` when the time runs out; otherwise whatever `promise` rejects with.
 */
export function within<T>(promise: PromiseLike<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` of real time (the suite measures quiet windows on the wall clock). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves with the value of `promise` if it settles within `ms`, or with `undefined` when it does not;
 * `promise` keeps running either way. Used to check that something does *not* happen for a while.
 */
export async function settlesWithin<T>(
  promise: PromiseLike<T>,
  ms: number,
): Promise<{ readonly value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise).then((value) => ({ value })), quiet]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bounds a long series of waits with one timer instead of one per wait: `wait(promise, what)` fails
 * with a {@link WaitTimeoutError} when `promise` has not settled `timeoutMs` (plus at most a quarter)
 * after the call. For readers that take tens of thousands of messages, where a timer per message
 * would cost more than the reading. Call {@link close} when done.
 */
export class Watchdog {
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  #pending: { readonly since: number; readonly what: string; readonly reject: (e: unknown) => void } | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#timer = setInterval(() => this.#check(), Math.max(5, Math.floor(timeoutMs / 4)));
  }

  /**
   * Waits for `promise`; one wait at a time.
   * @throws {WaitTimeoutError} naming `what` when it does not settle in time; otherwise what `promise` rejects with.
   */
  wait<T>(promise: PromiseLike<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending = { since: Date.now(), what, reject };
      this.#pending = pending;
      const done = (): void => {
        if (this.#pending === pending) this.#pending = undefined;
      };
      promise.then(
        (value) => {
          done();
          resolve(value);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  /** Stops the timer; a wait still pending is no longer bounded. */
  close(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const pending = this.#pending;
    const waitedMs = pending === undefined ? 0 : Date.now() - pending.since;
    if (pending !== undefined && waitedMs > this.#timeoutMs) {
      this.#pending = undefined;
      pending.reject(new WaitTimeoutError(`timed out after ${waitedMs} ms waiting for ${pending.what}`));
    }
  }
}
