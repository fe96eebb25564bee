import type { MessageEnvelope, MessageId } from '@streamsvc/message';

/** One append on its way into a block. */
export interface PendingEntry {
  /**
   * The message, as a snapshot the caller's later changes do not reach; its entry is written straight
   * into the block when the block is cut, and the reference dropped then.
   */
  message: MessageEnvelope | undefined;
  /** The byte length of its entry (`entryBytes`). */
  readonly entryBytes: number;
  /** Record bytes, as taken from the in-flight budget. */
  readonly size: number;
  /** `queued`: not in a block yet (an abort still means "not written"); `cut`: in a block being written; `done`: settled. */
  state: 'queued' | 'cut' | 'done';
  readonly resolve: (id: MessageId) => void;
  readonly reject: (error: unknown) => void;
  /** Removes the abort listener. */
  detach: (() => void) | undefined;
}

/** Settles `entry` with `error` unless it already settled. */
export function failEntry(entry: PendingEntry, error: unknown): void {
  if (entry.state === 'done') return;
  entry.state = 'done';
  entry.message = undefined;
  entry.detach?.();
  entry.reject(error);
}

/** Settles `entry` with `id` unless it already settled (an abort answered it earlier). */
export function resolveEntry(entry: PendingEntry, id: MessageId): void {
  if (entry.state === 'done') return;
  entry.state = 'done';
  entry.detach?.();
  entry.resolve(id);
}

/**
 * The appends not yet cut into a block, oldest first: O(1) push and take, and O(1) cancellation (an
 * aborted entry is marked and skipped when its turn comes).
 */
export class EntryQueue {
  #items: PendingEntry[] = [];
  #head = 0;
  #bytes = 0;
  #count = 0;

  /** Bytes of the live (not cancelled) entries. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Live entries. */
  get count(): number {
    return this.#count;
  }

  push(entry: PendingEntry): void {
    this.#items.push(entry);
    this.#bytes += entry.size;
    this.#count++;
  }

  /** Forgets a queued entry that was aborted (it stays in the array until its turn, then is skipped). */
  cancel(entry: PendingEntry): void {
    this.#bytes -= entry.size;
    this.#count--;
  }

  /**
   * Takes the oldest live entries, up to `maxEntries` or until `maxBytes` is reached (the entry that
   * crosses it is included: a block may exceed the target by one entry, so any entry fits).
   */
  take(maxEntries: number, maxBytes: number): PendingEntry[] {
    const out: PendingEntry[] = [];
    let bytes = 0;
    while (this.#head < this.#items.length && out.length < maxEntries && bytes < maxBytes) {
      const entry = this.#items[this.#head++]!;
      if (entry.state !== 'queued') continue;
      entry.state = 'cut';
      out.push(entry);
      bytes += entry.size;
    }
    this.#bytes -= bytes;
    this.#count -= out.length;
    this.#compact();
    return out;
  }

  /** Removes and returns every live entry. */
  drain(): PendingEntry[] {
    const out = this.#items.slice(this.#head).filter((e) => e.state === 'queued');
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#count = 0;
    return out;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
