/** What the in-process writer of a log has made durable and acknowledged. */
export interface WriterTail {
  /** The writer's active segment. */
  readonly segmentId: number;
  /** The last acknowledged entry of that segment; -1 before the first. */
  readonly lastEntryId: number;
}

/**
 * In-process tail notifications of one log: the writer publishes each acknowledged block, readers
 * wait for the next publication. No timers: a reader waiting on a log whose writer lives in this
 * process costs nothing until an append lands. Readers of logs written by other processes poll
 * instead (see the scanner).
 */
export class LogTail {
  #writer: { readonly token: object; tail: WriterTail } | undefined;
  #waiters = new Set<() => void>();

  /** The tail of the writer living in this process, if any. */
  get writer(): WriterTail | undefined {
    return this.#writer?.tail;
  }

  /** Registers the writer of a new read-write open (replacing any older one) and wakes readers. */
  register(token: object, tail: WriterTail): void {
    this.#writer = { token, tail };
    this.#wake();
  }

  /** Publishes a new tail of the writer `token` (ignored when another writer replaced it). */
  publish(token: object, tail: WriterTail): void {
    if (this.#writer?.token !== token) return;
    this.#writer.tail = tail;
    this.#wake();
  }

  /** Removes the writer `token` (closed or fenced): readers fall back to polling. */
  unregister(token: object): void {
    if (this.#writer?.token !== token) return;
    this.#writer = undefined;
    this.#wake();
  }

  /** Wakes readers without a new tail: the log changed in another way (truncation). */
  notify(): void {
    this.#wake();
  }

  /** Resolves at the next publication, or when `signal` aborts. */
  next(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}

// Keyed by the MetaKv instance the logs' metadata lives in (one per storage system in a process), then
// by the data location and pchannel. A WeakMap: nothing here outlives the dependencies it hangs off.
const TAILS = new WeakMap<object, Map<string, LogTail>>();

/**
 * The tail notifier of one log in this process. Openers that share a MetaKv and a data location share
 * it, so a reader from one opener hears the writer of another (two "nodes" in one test process).
 */
export function logTailOf(metaKv: object, location: string, pchannel: string): LogTail {
  let tails = TAILS.get(metaKv);
  if (tails === undefined) {
    tails = new Map();
    TAILS.set(metaKv, tails);
  }
  const key = `${location}\u0000${pchannel}`;
  let tail = tails.get(key);
  if (tail === undefined) {
    tail = new LogTail();
    tails.set(key, tail);
  }
  return tail;
}
