/**
 * A push-fed async iterator: producers `push` items (from event emitters, commit callbacks), one
 * consumer pulls them with `for await`. Used by both adapters' watches.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: { readonly error: unknown } | undefined;
  #cleanup: (() => void) | undefined;

  /** `cleanup` runs once, when the queue finishes for any reason (end, fail, stop, consumer `break`). */
  constructor(cleanup?: () => void) {
    this.#cleanup = cleanup;
  }

  /** Whether no more items will be delivered. */
  get finished(): boolean {
    return this.#ended;
  }

  /** Number of buffered items not yet pulled. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an item; ignored once the queue has finished. */
  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  /** No more items: the consumer gets what is buffered, then `done`. */
  end(): void {
    this.#finish(undefined);
  }

  /** The consumer gets what is buffered, then `error` is thrown from `next()`. */
  fail(error: unknown): void {
    this.#finish({ error });
  }

  /** Ends at once, dropping buffered items (the consumer asked to stop). */
  stop(): void {
    this.#items = [];
    this.#finish(undefined);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#ended) {
      const error = this.#error;
      if (error) {
        this.#error = undefined; // thrown once; later calls see `done`
        return Promise.reject(error.error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter) return Promise.reject(new Error('AsyncQueue supports one pending next() at a time'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #finish(error: { readonly error: unknown } | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const cleanup = this.#cleanup;
    this.#cleanup = undefined;
    cleanup?.();
    const waiter = this.#waiter;
    if (waiter) {
      // The buffer is empty whenever someone waits, so the waiter gets the end (or the error) directly.
      this.#waiter = undefined;
      this.#error = undefined;
      if (error) waiter.reject(error.error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }
}
