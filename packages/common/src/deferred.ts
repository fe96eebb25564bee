/** A promise with its resolve and reject functions, for code that settles it from elsewhere. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Runs a close routine once: every call to `run` returns the same promise, so `close()` is idempotent
 * and a second caller waits for the first close to finish.
 */
export class CloseOnce {
  #closing: Promise<void> | undefined;

  /** Whether `run` was called. */
  get started(): boolean {
    return this.#closing !== undefined;
  }

  run(close: () => Promise<void>): Promise<void> {
    this.#closing ??= Promise.resolve().then(close);
    return this.#closing;
  }
}
