/**
 * etcd-style leader election, written once over the MetaKV port (the algorithm of etcd's
 * `concurrency.Election`):
 *
 * - a candidate puts `<prefix>/<leaseId>` under its lease (create-if-absent, so re-campaigning with
 *   the same lease keeps its place in line);
 * - the leader is the candidate key with the lowest createRevision;
 * - a candidate waits, by watch, for the deletion of its immediate predecessor (the key with the highest
 *   createRevision below its own), then checks again — no herd wakes up when the leader goes;
 * - a leader watches its own key and its lease: when either is gone, `leadership.lost` settles.
 */
import type { CallOptions, Logger } from '@streamsvc/common';
import { abortReason, deferred, noopLogger, throwIfAborted } from '@streamsvc/common';

import { MetaKvError, MetaKvErrorCode } from './errors.js';
import { listAll } from './list-all.js';
import type { KeyValue, Lease, MetaKv } from './meta-kv.js';
import { checkPrefix } from './validate.js';

/** Options of {@link Election}. */
export interface ElectionOptions {
  /** The election's name, without a trailing `/`, e.g. `streamsvc/coord/leader`. */
  readonly prefix: string;
  /** The candidate's lease, usually a `Session`'s: when it is lost, so is the candidacy or leadership. */
  readonly lease: Lease;
  readonly logger?: Logger;
}

/** Why a leadership ended. */
export interface LeadershipLost {
  /**
   * `'resigned'` by `resign()`; `'lease-lost'` when the candidate's lease ended; `'key-deleted'` when
   * someone else deleted or replaced the leader key; `'watch-failed'` when the store stopped answering
   * the leader's watch (closed, or history compacted) so leadership can no longer be confirmed.
   */
  readonly reason: 'resigned' | 'lease-lost' | 'key-deleted' | 'watch-failed';
  readonly error?: unknown;
}

/** Being the leader; see {@link Election.campaign}. */
export interface Leadership extends AsyncDisposable {
  /** The leader key, `<prefix>/<leaseId>`. */
  readonly key: string;
  readonly createRevision: bigint;
  /** Settles (never rejects) when this process is no longer the leader. Stop acting as leader then. */
  readonly lost: Promise<LeadershipLost>;
  readonly isLost: boolean;
  /**
   * Replaces the value observers see, if still the leader.
   * @throws {MetaKvError} SESSION_LOST when leadership is gone. Abort: the outcome is unknown.
   */
  proclaim(value: Uint8Array | string, options?: CallOptions): Promise<void>;
  /**
   * Deletes the leader key so the next candidate takes over; `lost` settles with `'resigned'`.
   * Idempotent. @throws {MetaKvError} UNAVAILABLE (still the leader then; retry). Abort: outcome unknown.
   */
  resign(options?: CallOptions): Promise<void>;
}

function sessionLost(message: string, cause?: unknown): MetaKvError {
  return new MetaKvError(MetaKvErrorCode.SESSION_LOST, message, { cause });
}

/** Only the key we created (same createRevision) may be touched: a replaced key is someone else's. */
function ours(key: string, createRevision: bigint): { key: string; target: 'createRevision'; op: '=='; value: bigint } {
  return { key, target: 'createRevision', op: '==', value: createRevision };
}

/** See the module comment. */
export class Election {
  readonly prefix: string;
  readonly #kv: MetaKv;
  readonly #lease: Lease;
  readonly #log: Logger;

  constructor(kv: MetaKv, options: ElectionOptions) {
    checkPrefix(options.prefix, false, 'election prefix');
    this.#kv = kv;
    this.prefix = options.prefix;
    this.#lease = options.lease;
    this.#log = (options.logger ?? noopLogger).child({ component: 'election', prefix: options.prefix });
  }

  /** This candidate's key. */
  get key(): string {
    return `${this.prefix}/${this.#lease.id}`;
  }

  /**
   * Becomes a candidate and resolves once this candidate is the leader.
   * @throws {MetaKvError} SESSION_LOST when the lease is or becomes lost before that; UNAVAILABLE; CLOSED.
   * Abort: the candidacy is withdrawn (the key deleted) and the promise rejects with the abort reason.
   */
  async campaign(value: Uint8Array | string, options: CallOptions = {}): Promise<Leadership> {
    const { signal } = options;
    throwIfAborted(signal);
    if (this.#lease.isLost) throw sessionLost(`campaign for ${this.prefix}: the lease ${this.#lease.id} is lost`);
    const key = this.key;
    const res = await this.#kv
      .txn(
        {
          compare: [{ key, target: 'createRevision', op: '==', value: 0n }],
          success: [{ type: 'put', key, value, lease: this.#lease.id }],
          failure: [{ type: 'get', key }],
        },
        { signal },
      )
      .catch((e: unknown) => {
        throw MetaKvError.is(e, MetaKvErrorCode.LEASE_NOT_FOUND)
          ? sessionLost(`campaign for ${this.prefix}: the lease is gone`, e)
          : e;
      });
    const existing = res.results[0];
    const createRevision = res.succeeded || !existing ? res.revision : existing.createRevision;
    if (!res.succeeded && existing) {
      // Already a candidate with this lease: keep the place in line, refresh the value.
      await this.#kv.txn(
        { compare: [ours(key, createRevision)], success: [{ type: 'put', key, value, lease: this.#lease.id }] },
        { signal },
      );
    }
    const inner = new AbortController();
    const onAbort = (): void => inner.abort(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    void this.#lease.lost.then(() =>
      inner.abort(sessionLost(`campaign for ${this.prefix}: the lease ${this.#lease.id} was lost`)),
    );
    try {
      const electedAt = await this.#waitForPredecessors(key, createRevision, inner.signal);
      this.#log.info({ key, createRevision: String(createRevision) }, 'elected');
      return ElectedLeadership.start(this.#kv, key, createRevision, this.#lease, electedAt);
    } catch (e) {
      // Withdraw, best effort: the key is under the lease anyway.
      await this.#kv.txn({ compare: [ours(key, createRevision)], success: [{ type: 'delete', key }] }).catch(() => {});
      if (inner.signal.aborted) throw inner.signal.reason;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!inner.signal.aborted) inner.abort(); // ends the lease listener's purpose
    }
  }

  /** The current leader's key and value, or `undefined` when there is none. Abort: the read is abandoned. */
  async leader(options: CallOptions = {}): Promise<KeyValue | undefined> {
    const { kvs } = await listAll(this.#kv, `${this.prefix}/`, options);
    return lowest(kvs);
  }

  /** {@link observeLeader} for this election. */
  observe(options: CallOptions = {}): AsyncGenerator<KeyValue | undefined> {
    return observeLeader(this.#kv, this.prefix, options);
  }

  /**
   * Resolves with the revision at which `key` became the lowest candidate. The loop ends: each round
   * waits for one predecessor to go, and no new one can appear (later candidates sort after us).
   */
  async #waitForPredecessors(key: string, createRevision: bigint, signal: AbortSignal): Promise<bigint> {
    for (;;) {
      const { kvs, revision } = await listAll(this.#kv, `${this.prefix}/`, { signal });
      const mine = kvs.find((c) => c.key === key);
      if (!mine || mine.createRevision !== createRevision) {
        throw sessionLost(`campaign for ${this.prefix}: the candidate key ${key} was deleted`);
      }
      let predecessor: KeyValue | undefined;
      for (const c of kvs) {
        if (c.createRevision < createRevision && (!predecessor || c.createRevision > predecessor.createRevision))
          predecessor = c;
      }
      if (!predecessor) return revision;
      this.#log.debug({ key, waitingFor: predecessor.key }, 'waiting for the predecessor to go');
      for await (const event of this.#kv.watch(predecessor.key, { fromRevision: revision + 1n, signal })) {
        if (event.type === 'delete') break;
      }
      throwIfAborted(signal);
    }
  }
}

/** The candidate with the lowest createRevision. */
function lowest(kvs: Iterable<KeyValue>): KeyValue | undefined {
  let best: KeyValue | undefined;
  for (const c of kvs) if (!best || c.createRevision < best.createRevision) best = c;
  return best;
}

class ElectedLeadership implements Leadership {
  readonly key: string;
  readonly createRevision: bigint;
  readonly lost: Promise<LeadershipLost>;
  readonly #kv: MetaKv;
  readonly #lease: Lease;
  readonly #settle: (lost: LeadershipLost) => void;
  readonly #stop = new AbortController();
  #isLost = false;
  #resigning: Promise<void> | undefined;

  private constructor(kv: MetaKv, key: string, createRevision: bigint, lease: Lease) {
    this.#kv = kv;
    this.key = key;
    this.createRevision = createRevision;
    this.#lease = lease;
    const lost = deferred<LeadershipLost>();
    this.lost = lost.promise;
    this.#settle = lost.resolve;
  }

  /** Becomes the leader elected at revision `electedAt`: watches the lease and the leader key from then on. */
  static start(kv: MetaKv, key: string, createRevision: bigint, lease: Lease, electedAt: bigint): ElectedLeadership {
    const leadership = new ElectedLeadership(kv, key, createRevision, lease);
    void lease.lost.then((why) => leadership.#end({ reason: 'lease-lost', error: why }));
    void leadership.#watchOwnKey(electedAt + 1n);
    return leadership;
  }

  get isLost(): boolean {
    return this.#isLost;
  }

  async proclaim(value: Uint8Array | string, options: CallOptions = {}): Promise<void> {
    if (this.#isLost) throw sessionLost(`${this.key} is no longer the leader`);
    const res = await this.#kv.txn(
      {
        compare: [ours(this.key, this.createRevision)],
        success: [{ type: 'put', key: this.key, value, lease: this.#lease.id }],
      },
      options,
    );
    if (!res.succeeded) {
      this.#end({ reason: 'key-deleted' });
      throw sessionLost(`${this.key} is no longer the leader`);
    }
  }

  resign(options: CallOptions = {}): Promise<void> {
    if (this.#isLost && this.#resigning === undefined) return Promise.resolve();
    this.#resigning ??= this.#kv
      .txn({ compare: [ours(this.key, this.createRevision)], success: [{ type: 'delete', key: this.key }] }, options)
      .then(
        () => this.#end({ reason: 'resigned' }),
        (e: unknown) => {
          this.#resigning = undefined; // still the leader: let the caller retry
          throw e;
        },
      );
    return this.#resigning;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.resign();
  }

  async #watchOwnKey(fromRevision: bigint): Promise<void> {
    try {
      for await (const event of this.#kv.watch(this.key, { fromRevision, signal: this.#stop.signal })) {
        if (event.type === 'delete' || event.kv.createRevision !== this.createRevision) {
          this.#end({ reason: this.#resigning ? 'resigned' : 'key-deleted' });
          return;
        }
      }
      this.#end({ reason: 'watch-failed', error: MetaKvError.closed('leadership watch') });
    } catch (e) {
      this.#end({ reason: 'watch-failed', error: e });
    }
  }

  #end(lost: LeadershipLost): void {
    if (this.#isLost) return;
    this.#isLost = true;
    this.#stop.abort();
    this.#settle(lost);
  }
}

/**
 * Yields the leader of the election `prefix` (its key and value, or `undefined` when there is none)
 * now and after every change of leader or of the leader's value. Ends when `signal` aborts or the
 * store closes.
 */
export async function* observeLeader(
  kv: MetaKv,
  prefix: string,
  options: CallOptions = {},
): AsyncGenerator<KeyValue | undefined> {
  checkPrefix(prefix, false, 'election prefix');
  const dir = `${prefix}/`;
  const { kvs, revision } = await listAll(kv, dir, options);
  const candidates = new Map(kvs.map((c) => [c.key, c]));
  let shown = lowest(candidates.values());
  yield shown;
  for await (const event of kv.watch(dir, { prefix: true, fromRevision: revision + 1n, signal: options.signal })) {
    if (event.type === 'put') candidates.set(event.kv.key, event.kv);
    else candidates.delete(event.kv.key);
    const now = lowest(candidates.values());
    if (now?.key === shown?.key && now?.modRevision === shown?.modRevision) continue;
    shown = now;
    yield now;
  }
}
