import { abortReason } from '@streamsvc/common';

interface Waiter {
  readonly exclusive: boolean;
  readonly grant: () => void;
}

/**
 * An async readers-writer lock, FIFO among waiters: a waiting writer blocks later readers, so a DDL is
 * never starved by a stream of inserts, and inserts that arrive after a DDL are ordered after it.
 */
export class RwLock {
  #readers = 0;
  #writer = false;
  readonly #queue: Waiter[] = [];

  /** Whether nobody holds or waits for the lock (the owner may then forget it). */
  get idle(): boolean {
    return this.#readers === 0 && !this.#writer && this.#queue.length === 0;
  }

  /**
   * Takes the lock shared at once when nobody holds it exclusively or waits for it; false otherwise.
   * The append path's common case, without a promise or a release closure: pair with {@link releaseShared}.
   */
  tryAcquireShared(): boolean {
    if (this.#writer || this.#queue.length > 0) return false;
    this.#readers++;
    return true;
  }

  /** Releases a shared hold taken with {@link tryAcquireShared}. */
  releaseShared(): void {
    this.#readers--;
    this.#drain();
  }

  /** Acquires the lock shared (`exclusive` false) or exclusive; resolves with the release function. */
  acquire(exclusive: boolean, signal?: AbortSignal): Promise<() => void> {
    if (this.#queue.length === 0 && (exclusive ? !this.#writer && this.#readers === 0 : !this.#writer)) {
      this.#take(exclusive);
      return Promise.resolve(this.#releaser(exclusive));
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        exclusive,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser(exclusive));
        },
      };
      const onAbort = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(abortReason(signal!));
        this.#drain();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #take(exclusive: boolean): void {
    if (exclusive) this.#writer = true;
    else this.#readers++;
  }

  #releaser(exclusive: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) this.#writer = false;
      else this.#readers--;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (next.exclusive ? this.#writer || this.#readers > 0 : this.#writer) return;
      this.#queue.shift();
      this.#take(next.exclusive);
      next.grant();
      if (next.exclusive) return;
    }
  }
}
