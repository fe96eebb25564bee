/**
 * Sessions: "this node is alive" as a key under a lease kept alive in the background — the basis of
 * node discovery. Written once over the MetaKV port, so it behaves the same on etcd and embedded.
 */
import type { CallOptions } from '@streamsvc/common';
import { CloseOnce } from '@streamsvc/common';

import { compareKeys } from './bytes.js';
import { MetaKvError, MetaKvErrorCode } from './errors.js';
import { listAll } from './list-all.js';
import type { KeyValue, Lease, LeaseId, MetaKv, MetaKvLeaseLost, WatchEvent, WriteResult } from './meta-kv.js';

/** Options of {@link Session.register}. */
export interface SessionOptions extends CallOptions {
  /** The session key, e.g. `streamsvc/session/node/7`. An existing key is taken over. */
  readonly key: string;
  /** What others read about this session (address, version, ...). */
  readonly value: Uint8Array | string;
  /** Lease TTL: how long after this process stops (or loses the store) the key disappears. */
  readonly ttlMs: number;
}

/** A registered session; see the module comment. */
export class Session implements AsyncDisposable {
  readonly key: string;
  /** The lease the key lives under (shared with an {@link Election} campaign, if any). */
  readonly lease: Lease;
  /**
   * Settles (never rejects) when the session's lease is gone — expired, revoked elsewhere, or the
   * store closed. From then on the session rejects use with SESSION_LOST and its key is gone.
   */
  readonly lost: Promise<MetaKvLeaseLost>;
  readonly #kv: MetaKv;
  readonly #closeOnce = new CloseOnce();

  private constructor(kv: MetaKv, key: string, lease: Lease) {
    this.#kv = kv;
    this.key = key;
    this.lease = lease;
    this.lost = lease.lost;
  }

  /**
   * Grants a lease of `ttlMs`, kept alive in the background, and puts `key` = `value` under it.
   * @throws {MetaKvError} the errors of `grantLease` and `put` (the lease is revoked again on failure).
   * Abort: nothing is left behind (a lease granted meanwhile is revoked or expires).
   */
  static async register(kv: MetaKv, options: SessionOptions): Promise<Session> {
    const lease = await kv.grantLease(options.ttlMs, { signal: options.signal });
    try {
      await kv.put(options.key, options.value, { lease: lease.id, signal: options.signal });
    } catch (e) {
      await lease.revoke().catch(() => {});
      throw e;
    }
    return new Session(kv, options.key, lease);
  }

  get leaseId(): LeaseId {
    return this.lease.id;
  }

  /** Whether the lease is gone (`lost` has settled). */
  get isLost(): boolean {
    return this.lease.isLost;
  }

  /** Throws SESSION_LOST once the session is lost; call it before acting on what the session protects. */
  assertAlive(): void {
    if (this.lease.isLost) {
      throw new MetaKvError(MetaKvErrorCode.SESSION_LOST, `session ${this.key} lost its lease ${this.lease.id}`, {
        details: { key: this.key, lease: this.lease.id },
      });
    }
  }

  /**
   * Replaces the session's value (still under its lease).
   * @throws {MetaKvError} SESSION_LOST when the lease is gone; UNAVAILABLE; CLOSED.
   * Abort: the outcome is unknown.
   */
  async update(value: Uint8Array | string, options: CallOptions = {}): Promise<WriteResult> {
    this.assertAlive();
    try {
      return await this.#kv.put(this.key, value, { lease: this.lease.id, signal: options.signal });
    } catch (e) {
      if (MetaKvError.is(e, MetaKvErrorCode.LEASE_NOT_FOUND)) {
        throw new MetaKvError(MetaKvErrorCode.SESSION_LOST, `session ${this.key} lost its lease ${this.lease.id}`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  /** Ends the session: revokes the lease, which deletes the key at once. Idempotent. */
  close(): Promise<void> {
    return this.#closeOnce.run(() => this.lease.revoke());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The sessions under `prefix` as one snapshot (paged through `list` at one revision).
 * Abort: the read is abandoned.
 */
export async function listSessions(
  kv: MetaKv,
  prefix: string,
  options: CallOptions = {},
): Promise<{ sessions: KeyValue[]; revision: bigint }> {
  const { kvs, revision } = await listAll(kv, prefix, options);
  return { sessions: kvs, revision };
}

/** One state of the sessions under a prefix, as {@link watchSessions} yields it. */
export interface SessionsSnapshot {
  /** Every live session, by key order. */
  readonly sessions: readonly KeyValue[];
  /** The store revision this state reflects. */
  readonly revision: bigint;
  /** The change that led to this state; `undefined` for the first snapshot. */
  readonly change: WatchEvent | undefined;
}

/**
 * Node discovery: yields the sessions under `prefix` now, then a new snapshot after every change (a
 * session registered, updated or gone), with no change missed between the listing and the watch.
 * Ends when `signal` aborts or the store closes; throws what the watch throws (COMPACTED when the
 * consumer fell behind the store's history).
 */
export async function* watchSessions(
  kv: MetaKv,
  prefix: string,
  options: CallOptions = {},
): AsyncGenerator<SessionsSnapshot, void, undefined> {
  const { kvs, revision } = await listAll(kv, prefix, options);
  const live = new Map(kvs.map((s) => [s.key, s]));
  const snapshot = (rev: bigint, change: WatchEvent | undefined): SessionsSnapshot => ({
    sessions: [...live.values()].sort((a, b) => compareKeys(a.key, b.key)),
    revision: rev,
    change,
  });
  yield snapshot(revision, undefined);
  for await (const event of kv.watch(prefix, { prefix: true, fromRevision: revision + 1n, signal: options.signal })) {
    if (event.type === 'put') live.set(event.kv.key, event.kv);
    else live.delete(event.kv.key);
    yield snapshot(event.kv.modRevision, event);
  }
}
