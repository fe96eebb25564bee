import { abortReason, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock } from '@streamsvc/common';
import { ResourceDomain, StreamingError } from '@streamsvc/message';

/**
 * One resource a broadcast locks, as in a broadcast header's `resourceKeys`: a `(domain, key)` pair
 * (e.g. collection name `docs`), held `shared` (many holders at once) or exclusive (one holder, no
 * shared ones beside it).
 */
export interface LockKey {
  readonly domain: number;
  readonly key: string;
  readonly shared: boolean;
}

/** Options of {@link ResourceLocks.acquire}. */
export interface AcquireLocksOptions extends CallOptions {
  /**
   * Give up after waiting this long (on the locks' clock) with RESOURCE_ACQUIRED. Default: wait until
   * granted or aborted.
   */
  readonly timeoutMs?: number | undefined;
}

/** Held locks; see {@link ResourceLocks.acquire}. */
export interface ResourceLockHandle extends Disposable {
  /** The keys held, one per `(domain, key)` (duplicates merged; exclusive wins over shared). */
  readonly keys: readonly LockKey[];
  /** Releases every key of the handle and lets waiters in. Idempotent. */
  release(): void;
}

interface KeyState {
  shared: number;
  exclusive: boolean;
}

interface Waiter {
  readonly keys: readonly LockKey[];
  readonly grant: () => void;
}

const DOMAIN_NAMES = new Map<number, string>(Object.entries(ResourceDomain).map(([name, n]) => [n, name]));

/** `CollectionName:docs` — how a key appears in errors and logs. */
export function describeLockKey(k: Pick<LockKey, 'domain' | 'key'>): string {
  return `${DOMAIN_NAMES.get(k.domain) ?? `domain ${k.domain}`}:${k.key}`;
}

function slot(k: Pick<LockKey, 'domain' | 'key'>): string {
  return `${k.domain}\u0000${k.key}`;
}

/**
 * In-memory resource-key locks of the active coordinator's broadcaster, so conflicting DDL (two
 * broadcasts on the same collection) is applied one after the other on every vchannel.
 *
 * - A request takes all its keys at once or none, so two requests can never each hold what the other
 *   waits for: no deadlock, whatever order the keys are listed in.
 * - Per `(domain, key)`: any number of shared holders, or one exclusive holder.
 * - Waiters are served first come, first served: a request is granted only when it conflicts neither
 *   with a holder nor with an earlier waiter, so a waiting exclusive request is not starved by a stream
 *   of later shared ones. Requests that touch other keys pass it freely.
 *
 * The locks live in the coordinator's memory only: after a coordinator restart the broadcaster
 * re-acquires them for its persisted tasks before it accepts new broadcasts.
 */
export class ResourceLocks {
  readonly #clock: Clock;
  readonly #held = new Map<string, KeyState>();
  #waiters: Waiter[] = [];

  constructor(options: { readonly clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** Number of requests waiting. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** The current holders of one key: how many shared, whether exclusive. */
  holders(k: Pick<LockKey, 'domain' | 'key'>): { readonly shared: number; readonly exclusive: boolean } {
    const state = this.#held.get(slot(k));
    return { shared: state?.shared ?? 0, exclusive: state?.exclusive ?? false };
  }

  /**
   * Acquires every key of `keys` atomically. The request joins the queue synchronously, before this
   * method returns, so calls made one after the other are served in that order.
   * @returns a handle that releases the keys; an empty key list is granted at once.
   * @throws StreamingError RESOURCE_ACQUIRED (retriable) naming a key that is held or awaited by an
   *   earlier request, when `timeoutMs` passes first.
   * Abort: the request leaves the queue and nothing is held; rejects with the signal's reason.
   */
  acquire(keys: readonly LockKey[], options: AcquireLocksOptions = {}): Promise<ResourceLockHandle> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const merged = mergeKeys(keys);
    return new Promise<ResourceLockHandle>((resolve, reject) => {
      const stopWaiting = new AbortController();
      const leave = (error: unknown): void => {
        if (!this.#waiters.includes(waiter)) return;
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        stopWaiting.abort();
        signal?.removeEventListener('abort', onAbort);
        reject(error);
        // A waiter that leaves may have been the one blocking later requests.
        this.#pump();
      };
      const onAbort = (): void => leave(abortReason(signal!));
      const waiter: Waiter = {
        keys: merged,
        grant: () => {
          stopWaiting.abort();
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#handle(merged));
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pump();
      if (timeoutMs !== undefined && this.#waiters.includes(waiter)) {
        this.#clock.sleep(timeoutMs, { signal: stopWaiting.signal }).then(
          () => leave(this.#timeoutError(waiter, timeoutMs)),
          () => {},
        );
      }
    });
  }

  /** Grants, in queue order, every waiter that conflicts with neither a holder nor an earlier waiter. */
  #pump(): void {
    // Keys wanted by waiters still queued ahead: 'exclusive' blocks everyone after; 'shared' blocks
    // later exclusive requests only.
    const ahead = new Map<string, 'shared' | 'exclusive'>();
    const granted: Waiter[] = [];
    const remaining: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.keys.every((k) => this.#free(k) && !blockedBy(ahead.get(slot(k)), k.shared))) {
        for (const k of waiter.keys) this.#take(k);
        granted.push(waiter);
        continue;
      }
      remaining.push(waiter);
      for (const k of waiter.keys) {
        if (ahead.get(slot(k)) !== 'exclusive') ahead.set(slot(k), k.shared ? 'shared' : 'exclusive');
      }
    }
    this.#waiters = remaining;
    for (const waiter of granted) waiter.grant();
  }

  #free(k: LockKey): boolean {
    const state = this.#held.get(slot(k));
    if (state === undefined) return true;
    return k.shared ? !state.exclusive : !state.exclusive && state.shared === 0;
  }

  #take(k: LockKey): void {
    const state = this.#held.get(slot(k)) ?? { shared: 0, exclusive: false };
    if (k.shared) state.shared++;
    else state.exclusive = true;
    this.#held.set(slot(k), state);
  }

  #handle(keys: readonly LockKey[]): ResourceLockHandle {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const k of keys) {
        const state = this.#held.get(slot(k))!;
        if (k.shared) state.shared--;
        else state.exclusive = false;
        if (state.shared === 0 && !state.exclusive) this.#held.delete(slot(k));
      }
      this.#pump();
    };
    return { keys, release, [Symbol.dispose]: release };
  }

  #timeoutError(waiter: Waiter, timeoutMs: number): StreamingError {
    const index = this.#waiters.indexOf(waiter);
    const earlier = this.#waiters.slice(0, Math.max(index, 0));
    const blocking =
      waiter.keys.find((k) => !this.#free(k)) ??
      waiter.keys.find((k) =>
        earlier.some((w) => w.keys.some((o) => slot(o) === slot(k) && (!o.shared || !k.shared))),
      ) ??
      waiter.keys[0];
    const what = blocking === undefined ? 'resource keys' : `resource key ${describeLockKey(blocking)}`;
    const state = blocking === undefined ? undefined : this.holders(blocking);
    const by =
      state === undefined || (!state.exclusive && state.shared === 0)
        ? 'awaited by an earlier broadcast'
        : state.exclusive
          ? 'held exclusively by another broadcast'
          : `held shared by ${state.shared} other broadcast(s)`;
    return new StreamingError('RESOURCE_ACQUIRED', `${what} is ${by}; gave up after ${timeoutMs} ms`);
  }
}

function blockedBy(ahead: 'shared' | 'exclusive' | undefined, shared: boolean): boolean {
  return ahead === 'exclusive' || (ahead === 'shared' && !shared);
}

/** One entry per `(domain, key)`; a key listed both shared and exclusive is taken exclusive. */
function mergeKeys(keys: readonly LockKey[]): LockKey[] {
  const bySlot = new Map<string, LockKey>();
  for (const k of keys) {
    const prev = bySlot.get(slot(k));
    if (prev === undefined || (prev.shared && !k.shared)) {
      bySlot.set(slot(k), { domain: k.domain, key: k.key, shared: k.shared });
    }
  }
  return [...bySlot.values()];
}
