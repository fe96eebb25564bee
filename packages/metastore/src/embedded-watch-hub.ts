/**
 * Delivers the embedded store's committed changes to its watchers, strictly in revision order.
 *
 * Writes publish their changes after their LMDB commit resolves. Commits resolve in order, but the hub
 * does not rely on promise scheduling for that: it holds back a revision until every earlier one has
 * been published. `publishedRevision` is therefore exact — every change up to it has been handed to
 * every watcher — and a new watcher replays history up to it and takes live changes after it, with
 * neither a gap nor a repeat.
 */
import { hasPrefix, bytesEqual, fromUtf8 } from './bytes.js';
import type { AsyncQueue } from './async-queue.js';
import type { StoredEvent } from './embedded-records.js';
import { toKeyValue } from './embedded-txn.js';
import type { WatchEvent } from './meta-kv.js';

/** The port's view of one stored change at `revision`. */
export function toWatchEvent(revision: bigint, event: StoredEvent): WatchEvent {
  const key = fromUtf8(event.key);
  if (event.type === 'put' && event.kv) return { type: 'put', kv: toKeyValue(key, event.kv) };
  // etcd reports a delete as the key with an empty value, zero create revision and version.
  return {
    type: 'delete',
    kv: { key, value: new Uint8Array(0), createRevision: 0n, modRevision: revision, version: 0n, lease: undefined },
  };
}

/** A watcher registered with the hub. */
export interface HubSubscriber {
  /** Which keys it wants. */
  readonly key: Uint8Array;
  readonly prefix: boolean;
  /** Changes below this revision are not delivered (the watcher replayed or skipped them). */
  readonly fromRevision: bigint;
  readonly queue: AsyncQueue<WatchEvent>;
}

/** Whether `subscriber` wants changes of `key`. */
export function wants(subscriber: Pick<HubSubscriber, 'key' | 'prefix'>, key: Uint8Array): boolean {
  return subscriber.prefix ? hasPrefix(key, subscriber.key) : bytesEqual(key, subscriber.key);
}

/** See the module comment. */
export class WatchHub {
  #published: bigint;
  readonly #held = new Map<bigint, readonly StoredEvent[]>();
  readonly #subscribers = new Set<HubSubscriber>();

  /** `publishedRevision`: the store revision when it opened (nothing is pending then). */
  constructor(publishedRevision: bigint) {
    this.#published = publishedRevision;
  }

  /** Every change up to this revision has been delivered to every subscriber. */
  get publishedRevision(): bigint {
    return this.#published;
  }

  /** Number of subscribers (for tests and close). */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Announces the changes committed at `revision`. A write that changed nothing must not call this;
   * revisions are consecutive.
   */
  publish(revision: bigint, events: readonly StoredEvent[]): void {
    if (revision <= this.#published) return;
    this.#held.set(revision, events);
    for (;;) {
      const next = this.#published + 1n;
      const ready = this.#held.get(next);
      if (!ready) return;
      this.#held.delete(next);
      this.#published = next;
      this.#deliver(next, ready);
    }
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(subscriber: HubSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Ends every subscriber's iterator (the store is closing). */
  closeAll(): void {
    for (const s of [...this.#subscribers]) s.queue.end();
    this.#subscribers.clear();
  }

  #deliver(revision: bigint, events: readonly StoredEvent[]): void {
    for (const s of this.#subscribers) {
      if (revision < s.fromRevision) continue;
      for (const event of events) if (wants(s, event.key)) s.queue.push(toWatchEvent(revision, event));
    }
  }
}
