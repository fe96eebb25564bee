/**
 * Lease bookkeeping of the embedded store: which leases exist, which are kept alive by a handle in this
 * process, and when the others expire. Expiry is driven by the injected {@link Clock}, so unit tests
 * move time by hand. Lease records (id, TTL) are in the database; deadlines are not: as etcd does
 * after a restart, a reopened store gives every lease a full TTL from the moment it opens.
 *
 * Keepalive is in-process: a handle granted with `keepAlive` keeps its lease from expiring for as long
 * as the store is open (nothing can make an in-process keepalive fail). Such a lease ends by revoke
 * (through the handle or by id) or when the store closes; after a reopen it expires one TTL later.
 */
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { deferred } from '@streamsvc/common';

import type { Lease, LeaseId, MetaKvLeaseLost } from './meta-kv.js';

/** A lease handle of the embedded store. */
export class EmbeddedLease implements Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  readonly lost: Promise<MetaKvLeaseLost>;
  readonly #settleLost: (lost: MetaKvLeaseLost) => void;
  readonly #revoke: (lease: EmbeddedLease, options: CallOptions) => Promise<void>;
  #isLost = false;
  #revoking: Promise<void> | undefined;

  /** Created by the store only; `revoke` deletes the lease through it. */
  constructor(id: LeaseId, ttlMs: number, revoke: (lease: EmbeddedLease, options: CallOptions) => Promise<void>) {
    this.id = id;
    this.ttlMs = ttlMs;
    this.#revoke = revoke;
    const lost = deferred<MetaKvLeaseLost>();
    this.lost = lost.promise;
    this.#settleLost = lost.resolve;
  }

  get isLost(): boolean {
    return this.#isLost;
  }

  /** Settles `lost` once; later calls are ignored. Called by the store. */
  settle(lost: MetaKvLeaseLost): void {
    if (this.#isLost) return;
    this.#isLost = true;
    this.#settleLost(lost);
  }

  revoke(options: CallOptions = {}): Promise<void> {
    if (this.#isLost && this.#revoking === undefined) return Promise.resolve();
    this.#revoking ??= this.#revoke(this, options);
    return this.#revoking;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.revoke();
  }
}

interface LeaseEntry {
  readonly id: bigint;
  readonly ttlMs: number;
  /** When the lease expires unless kept alive (clock ms). */
  deadlineMs: number;
  keptAlive: boolean;
  /** Its expiry is under way (so the timer ignores it). */
  expiring: boolean;
  readonly handles: Set<EmbeddedLease>;
}

/** The live leases and their expiry timer; see the module comment. */
export class LeaseTable {
  readonly #clock: Clock;
  readonly #expire: (id: bigint) => Promise<void>;
  readonly #log: Logger;
  readonly #entries = new Map<bigint, LeaseEntry>();
  #timer: AbortController | undefined;
  #timerDeadlineMs: number | undefined;
  #expiring: Promise<void> = Promise.resolve();
  #closed = false;

  /** `expire(id)` deletes an expired lease (and settles its handles); it runs one lease at a time. */
  constructor(clock: Clock, expire: (id: bigint) => Promise<void>, log: Logger) {
    this.#clock = clock;
    this.#expire = expire;
    this.#log = log;
  }

  /** Number of leases the table tracks. */
  get size(): number {
    return this.#entries.size;
  }

  /** Registers a lease found in the database on open: it expires one TTL from now. */
  load(id: bigint, ttlMs: number): void {
    const deadlineMs = this.#clock.nowMs() + ttlMs;
    this.#entries.set(id, { id, ttlMs, deadlineMs, keptAlive: false, expiring: false, handles: new Set() });
    this.#schedule();
  }

  /** Registers a freshly granted lease and its handle. */
  add(id: bigint, ttlMs: number, keepAlive: boolean, handle: EmbeddedLease): void {
    if (this.#closed) {
      handle.settle({ reason: 'closed' });
      return;
    }
    const deadlineMs = this.#clock.nowMs() + ttlMs;
    this.#entries.set(id, { id, ttlMs, deadlineMs, keptAlive: keepAlive, expiring: false, handles: new Set([handle]) });
    this.#schedule();
  }

  /** Stops keeping a lease alive: it expires one TTL from now. */
  release(id: bigint): void {
    const entry = this.#entries.get(id);
    if (!entry || !entry.keptAlive) return;
    entry.keptAlive = false;
    entry.deadlineMs = this.#clock.nowMs() + entry.ttlMs;
    this.#schedule();
  }

  /** Forgets a lease that is gone from the database and settles its handles. */
  remove(id: bigint, lostBy: (handle: EmbeddedLease) => MetaKvLeaseLost): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    for (const handle of entry.handles) handle.settle(lostBy(handle));
    this.#schedule();
  }

  /** Stops the timer and settles every handle with `'closed'`. */
  close(): void {
    this.#closed = true;
    this.#timer?.abort();
    for (const entry of this.#entries.values()) for (const handle of entry.handles) handle.settle({ reason: 'closed' });
    this.#entries.clear();
  }

  /** Resolves when expirations already started have finished (for `close`). */
  idle(): Promise<void> {
    return this.#expiring;
  }

  /** (Re)arms one timer for the earliest deadline among leases that are not kept alive. */
  #schedule(): void {
    if (this.#closed) return;
    let next: number | undefined;
    for (const e of this.#entries.values()) {
      if (!e.keptAlive && !e.expiring && (next === undefined || e.deadlineMs < next)) next = e.deadlineMs;
    }
    if (next === this.#timerDeadlineMs) return;
    this.#timer?.abort();
    this.#timer = undefined;
    this.#timerDeadlineMs = next;
    if (next === undefined) return;
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(Math.max(0, next - this.#clock.nowMs()), { signal: timer.signal }).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#timerDeadlineMs = undefined;
        this.#expireDue();
      },
      () => {}, // re-armed or closed
    );
  }

  #expireDue(): void {
    if (this.#closed) return;
    const now = this.#clock.nowMs();
    const due = [...this.#entries.values()].filter((e) => !e.keptAlive && !e.expiring && e.deadlineMs <= now);
    for (const entry of due) entry.expiring = true;
    this.#schedule(); // for leases due later
    this.#expiring = this.#expiring.then(async () => {
      for (const entry of due) {
        if (this.#closed) return;
        try {
          await this.#expire(entry.id);
        } catch (e) {
          // The lease stays; try again a second later.
          this.#log.warn({ err: e, lease: String(entry.id) }, 'lease expiry failed; will retry');
          entry.expiring = false;
          entry.deadlineMs = this.#clock.nowMs() + 1000;
          this.#schedule();
        }
      }
    });
  }
}
