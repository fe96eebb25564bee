import type { ImmutableMessage } from '@streamsvc/message';

import { MinHeap } from '../util/min-heap.js';

/**
 * Holds messages read between two time ticks and releases them in time-tick order. Message-id order
 * and tt order differ (appends complete in any order), but a TimeTick T promises that every message
 * with tt ≤ T was stored before it — so on T everything buffered at or below T can go, sorted.
 */
export class ReorderBuffer {
  readonly #heap = new MinHeap<ImmutableMessage>((a, b) => a.timeTick < b.timeTick);
  readonly #seen = new Set<string>();

  get size(): number {
    return this.#heap.size;
  }

  /** Buffers a message; a second copy of the same id (a backend redelivery) is ignored. */
  push(message: ImmutableMessage): void {
    const key = message.id.toString();
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#heap.push(message);
  }

  /** Removes and returns every buffered message with tt ≤ `tt`, in tt order. */
  release(tt: bigint): ImmutableMessage[] {
    const out: ImmutableMessage[] = [];
    for (let top = this.#heap.peek(); top !== undefined && top.timeTick <= tt; top = this.#heap.peek()) {
      out.push(this.#heap.pop()!);
      this.#seen.delete(top.id.toString());
    }
    return out;
  }

  clear(): void {
    while (this.#heap.size > 0) this.#heap.pop();
    this.#seen.clear();
  }
}
