import type { CallOptions } from '@streamsvc/common';

/**
 * The MetaKV port: a small, etcd-shaped, strongly consistent key-value store that holds streamsvc's
 * metadata (TSO window, pchannel terms, checkpoints, node sessions). Two adapters implement it: etcd
 * (clusters) and an embedded store (one process). Both pass the same conformance suite, so code above
 * this port never knows which one it talks to.
 *
 * Semantics follow etcd v3: a single global `revision` counter increments on every write that changes
 * something (a delete of a missing key does not); each key remembers the revision that created it, the
 * revision that last modified it and its version (number of writes since creation); a transaction is
 * atomic and applies at one revision.
 *
 * Keys are non-empty strings of at most 1024 UTF-8 bytes, ordered by their bytes. Every bad argument is
 * rejected with INVALID_ARGUMENT (a message naming the problem) before anything is sent or written.
 */
export interface MetaKv extends AsyncDisposable {
  /** `'etcd'` or `'embedded'`, for logs. Never branch on it. */
  readonly kind: string;

  /**
   * Reads one key.
   * @returns the entry, or `undefined` when the key does not exist.
   * @throws {MetaKvError} UNAVAILABLE when the store cannot be reached; CLOSED after `close()`.
   * Abort: the read is abandoned; nothing was written.
   */
  get(key: string, options?: CallOptions): Promise<KeyValue | undefined>;

  /**
   * Writes one key (create or overwrite), optionally attached to a lease so it disappears with it.
   * @throws {MetaKvError} LEASE_NOT_FOUND when the lease expired or was revoked; UNAVAILABLE; CLOSED.
   * Abort: the outcome is unknown (the write may have been applied).
   */
  put(key: string, value: Uint8Array | string, options?: PutOptions): Promise<WriteResult>;

  /**
   * Deletes one key; deleting a missing key succeeds with `deleted: 0`.
   * Abort: the outcome is unknown.
   */
  delete(key: string, options?: CallOptions): Promise<DeleteResult>;

  /**
   * Deletes every key that starts with `prefix` (a non-empty string; deleting everything by accident
   * with `''` is refused with INVALID_ARGUMENT). Abort: outcome unknown.
   */
  deletePrefix(prefix: string, options?: CallOptions): Promise<DeleteResult>;

  /**
   * Lists keys that start with `prefix` in ascending byte order, one page at a time. Pass the last key
   * of a page as `startAfter` to get the next one. All pages of one listing may be pinned to one
   * snapshot by passing the first page's `revision` as `atRevision`. `prefix` may be `''` (every key).
   * @throws {MetaKvError} COMPACTED when `atRevision` is older than the store keeps; INVALID_ARGUMENT
   *   for a limit outside 1..10000 or an `atRevision` that is not yet written.
   * Abort: the read is abandoned.
   */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;

  /**
   * Runs a compare-and-swap transaction: if every compare holds, the `success` ops run, else the
   * `failure` ops — atomically, at one revision. A failed compare is not an error (`succeeded: false`).
   * As in etcd, one branch may not write the same key twice (two puts, or a put inside a deleted range),
   * and each of `compare`, `success` and `failure` holds at most 128 entries.
   * @throws {MetaKvError} LEASE_NOT_FOUND for a put with a dead lease; INVALID_ARGUMENT for a malformed
   *   request (the message names the problem); UNAVAILABLE; CLOSED.
   * Abort: the outcome is unknown.
   */
  txn(request: TxnRequest, options?: CallOptions): Promise<TxnResult>;

  /**
   * Watches a key (or every key under a prefix) and yields its changes in revision order (the changes
   * of one transaction consecutively, in op order). With `fromRevision` it first replays history from
   * that revision (inclusive), so `list` at revision R followed by a watch from R + 1 never misses a
   * change. Without it the watch starts when the store has set it up — at once for the embedded store,
   * when etcd confirms it for etcd — so pass `fromRevision` whenever no change may be missed. The watch
   * survives reconnects of the underlying client (and etcd restarts) without losing or repeating events.
   *
   * The iterator ends when `signal` aborts or the store closes; its first `next()` rejects with
   * {MetaKvError} INVALID_ARGUMENT for a bad key or revision, CLOSED on a closed store, and COMPACTED
   * when `fromRevision` is no longer retained. It does not fail while etcd is unreachable; it waits.
   */
  watch(key: string, options?: WatchOptions): AsyncIterable<WatchEvent>;

  /**
   * Grants a lease with `ttlMs` (rounded up to whole seconds, at least 1 s; etcd may raise it further to
   * its minimum, see `lease.ttlMs`) and, unless `keepAlive: false`, keeps it alive in the background
   * until it is revoked or keepalives fail for longer than the TTL, at which point `lease.lost` settles.
   * @throws {MetaKvError} INVALID_ARGUMENT for a TTL that is not a positive finite number; UNAVAILABLE; CLOSED.
   * Abort: the outcome is unknown (a lease may have been granted; it expires on its own).
   */
  grantLease(ttlMs: number, options?: GrantLeaseOptions): Promise<Lease>;

  /**
   * Revokes a lease by id, wherever it was granted (another process, another client), deleting the keys
   * attached to it. The owner's `lease.lost` settles with reason `'expired'` once it notices (at once in
   * the embedded store, within a keepalive interval with etcd).
   * @returns whether the lease existed.
   * @throws {MetaKvError} INVALID_ARGUMENT for a malformed id; UNAVAILABLE; CLOSED.
   * Abort: the outcome is unknown.
   */
  revokeLease(id: LeaseId, options?: CallOptions): Promise<boolean>;

  /** The store's current revision. */
  revision(options?: CallOptions): Promise<bigint>;

  /**
   * Releases the client (and, for the embedded store, the database). Leases are not revoked: other
   * processes see them expire, exactly as after a crash. Idempotent; returns the same promise twice.
   */
  close(): Promise<void>;
}

/** One stored key with its MVCC metadata. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: bigint;
  /** Revision of the last write to the key. */
  readonly modRevision: bigint;
  /** Number of writes since creation; 1 after the first put. */
  readonly version: bigint;
  /** The lease the key is attached to, if any. */
  readonly lease: LeaseId | undefined;
}

/** A lease id, as the decimal string of etcd's int64 id. */
export type LeaseId = string;

export interface PutOptions extends CallOptions {
  /** Attach the key to this lease: it is deleted when the lease expires or is revoked. */
  readonly lease?: LeaseId | undefined;
}

export interface WriteResult {
  /** The revision at which the write was applied. */
  readonly revision: bigint;
}

export interface DeleteResult extends WriteResult {
  /** How many keys were deleted. */
  readonly deleted: number;
}

export interface ListOptions extends CallOptions {
  /** Page size, 1..10000. Default 1000. */
  readonly limit?: number;
  /** Return keys strictly greater than this one (the last key of the previous page). */
  readonly startAfter?: string;
  /** Read at this revision instead of the latest. */
  readonly atRevision?: bigint;
}

export interface ListPage {
  readonly kvs: readonly KeyValue[];
  /** True when more keys follow; continue with `startAfter: kvs[kvs.length - 1].key`. */
  readonly more: boolean;
  /** The revision the page was read at. */
  readonly revision: bigint;
}

/** What a compare looks at: the value bytes or one of the MVCC numbers of a key. */
export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision';
export type CompareOp = '==' | '!=' | '<' | '>';

/**
 * One condition of a transaction. A missing key has version 0, createRevision 0 and modRevision 0 — so
 * `{ target: 'version', op: '==', value: 0n }` means "does not exist". As in etcd, a `value` compare on
 * a missing key is always false, whatever the op (a missing value is not the empty value).
 */
export type Compare =
  | { readonly key: string; readonly target: 'value'; readonly op: CompareOp; readonly value: Uint8Array | string }
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly op: CompareOp;
      readonly value: bigint;
    };

/** One operation of a transaction branch. */
export type TxnOp =
  | {
      readonly type: 'put';
      readonly key: string;
      readonly value: Uint8Array | string;
      readonly lease?: LeaseId | undefined;
    }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'deletePrefix'; readonly prefix: string }
  | { readonly type: 'get'; readonly key: string };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[] | undefined;
}

export interface TxnResult {
  /** Whether every compare held (and so the `success` branch ran). */
  readonly succeeded: boolean;
  /** The store revision after the transaction. */
  readonly revision: bigint;
  /** One entry per op of the branch that ran: the entry for a `get`, `undefined` for other ops. */
  readonly results: readonly (KeyValue | undefined)[];
}

export interface WatchOptions extends CallOptions {
  /** Watch every key that starts with `key` (which may then be `''`) instead of `key` alone. */
  readonly prefix?: boolean;
  /** Replay history from this revision (inclusive, at least 1) before live changes. */
  readonly fromRevision?: bigint | undefined;
}

export interface GrantLeaseOptions extends CallOptions {
  /**
   * Keep the lease alive in the background (default `true`). With `false` the lease expires one TTL
   * after the grant — useful for "this key lives at most N seconds" and for tests of expiry.
   */
  readonly keepAlive?: boolean;
}

/** One change seen by a watch. For a delete, `kv.value` is empty and `kv.modRevision` is the delete's revision. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
}

/** A granted lease, kept alive in the background until revoked or lost. */
export interface Lease extends AsyncDisposable {
  readonly id: LeaseId;
  /** The TTL the store granted, in ms (a whole number of seconds; may exceed the requested TTL). */
  readonly ttlMs: number;
  /**
   * Settles (resolves with the reason, never rejects) when the lease is gone — or can no longer be
   * trusted to exist: `'revoked'` through this handle, `'expired'` otherwise (keepalives failed for
   * longer than the TTL, the store said the lease is gone, someone revoked it by id), `'closed'` when
   * the store was closed. Keys attached to it are deleted by the store.
   */
  readonly lost: Promise<MetaKvLeaseLost>;
  /** Whether `lost` has settled. */
  readonly isLost: boolean;
  /**
   * Revokes the lease (deleting its keys) and stops keepalives; `lost` settles with `'revoked'`.
   * Idempotent; a lease that is already lost is not revoked again.
   * @throws {MetaKvError} UNAVAILABLE when the store cannot be reached (`lost` has then settled anyway:
   *   the handle stops keepalives, so the lease expires on its own).
   * Abort: the outcome is unknown.
   */
  revoke(options?: CallOptions): Promise<void>;
}

/** Why a lease ended. */
export interface MetaKvLeaseLost {
  readonly reason: 'revoked' | 'expired' | 'closed';
  readonly error?: unknown;
}
