/**
 * etcd's MVCC rules over LMDB, for the embedded store. A {@link MvccWrite} lives inside one LMDB write
 * transaction (a synchronous callback): it reads and writes keys, and on `finish()` — only if something
 * changed — bumps the global revision once, appends the changes to the history table and compacts
 * history older than the retention. Everything it does commits atomically with the transaction.
 *
 * Callers must validate before the first write: LMDB-js runs several callbacks in one transaction and
 * an exception after a write would not undo that write.
 */
import type { Database, RootDatabase } from 'lmdb';

import type { StoredEvent, StoredKv } from './embedded-records.js';
import {
  PRESENT,
  corrupt,
  decodeKv,
  encodeEvent,
  encodeKv,
  encodeLease,
  histKey,
  leaseKey,
  leaseKeysKey,
  leaseKeysKeyKey,
  readU64,
  u64,
} from './embedded-records.js';

/** The LMDB sub-databases of the embedded store (all keys and values are raw bytes). */
export interface EmbeddedDbs {
  readonly root: RootDatabase;
  readonly kv: Database<Buffer, Buffer>;
  readonly hist: Database<Buffer, Buffer>;
  readonly leases: Database<Buffer, Buffer>;
  readonly lkeys: Database<Buffer, Buffer>;
  readonly meta: Database<Buffer, string>;
}

/** Names of the counters in the `meta` table. */
export const META = {
  format: 'format',
  revision: 'revision',
  compactRevision: 'compactRevision',
  leaseSeq: 'leaseSeq',
} as const;

/** Reads a counter from `meta`; `undefined` when absent. */
export function readMeta(dbs: EmbeddedDbs, name: string): bigint | undefined {
  const raw = dbs.meta.get(name);
  return raw === undefined ? undefined : readU64(raw, 0, `meta ${name}`);
}

/** Reads a counter that must exist (the store initialises all of them on first open). */
export function requireMeta(dbs: EmbeddedDbs, name: string): bigint {
  const value = readMeta(dbs, name);
  if (value === undefined) throw corrupt(`meta ${name} is missing`);
  return value;
}

/** Reads the stored state of `key`, if any. */
export function readKv(dbs: EmbeddedDbs, key: Uint8Array): StoredKv | undefined {
  const raw = dbs.kv.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
  return raw === undefined ? undefined : decodeKv(raw);
}

/** Keys with their states in `[start, end)` (end `undefined` = unbounded), ascending. */
export function* rangeKvs(
  dbs: EmbeddedDbs,
  start: Uint8Array,
  end: Uint8Array | undefined,
): Generator<{ key: Uint8Array; kv: StoredKv }> {
  const range = dbs.kv.getRange({ start: Buffer.from(start), ...(end ? { end: Buffer.from(end) } : {}) });
  for (const entry of range) {
    yield { key: Uint8Array.prototype.slice.call(entry.key), kv: decodeKv(entry.value) };
  }
}

/** One write transaction's worth of MVCC changes; see the module comment. */
export class MvccWrite {
  /** The store revision before this transaction. */
  readonly baseRevision: bigint;
  readonly #dbs: EmbeddedDbs;
  readonly #events: StoredEvent[] = [];

  constructor(dbs: EmbeddedDbs) {
    this.#dbs = dbs;
    this.baseRevision = requireMeta(dbs, META.revision);
  }

  /** The revision this transaction's writes carry. */
  get revision(): bigint {
    return this.baseRevision + 1n;
  }

  /** Whether anything was written so far. */
  get changed(): boolean {
    return this.#events.length > 0;
  }

  get(key: Uint8Array): StoredKv | undefined {
    return readKv(this.#dbs, key);
  }

  leaseExists(id: bigint): boolean {
    return this.#dbs.leases.get(leaseKey(id)) !== undefined;
  }

  /** Creates or overwrites `key`; `lease` 0n detaches it from any lease. The lease must exist. */
  put(key: Uint8Array, value: Uint8Array, lease: bigint): StoredKv {
    const prev = this.get(key);
    const kv: StoredKv = {
      value,
      createRevision: prev ? prev.createRevision : this.revision,
      modRevision: this.revision,
      version: prev ? prev.version + 1n : 1n,
      lease,
    };
    if (prev && prev.lease !== 0n && prev.lease !== lease) this.#dbs.lkeys.removeSync(leaseKeysKey(prev.lease, key));
    if (lease !== 0n) this.#dbs.lkeys.putSync(leaseKeysKey(lease, key), PRESENT);
    this.#dbs.kv.putSync(Buffer.from(key), encodeKv(kv));
    this.#events.push({ type: 'put', key, kv, prev });
    return kv;
  }

  /** Deletes `key`; returns whether it existed. */
  delete(key: Uint8Array): boolean {
    const prev = this.get(key);
    if (!prev) return false;
    if (prev.lease !== 0n) this.#dbs.lkeys.removeSync(leaseKeysKey(prev.lease, key));
    this.#dbs.kv.removeSync(Buffer.from(key));
    this.#events.push({ type: 'delete', key, kv: undefined, prev });
    return true;
  }

  /** Deletes every key in `[start, end)`; returns how many. */
  deleteRange(start: Uint8Array, end: Uint8Array | undefined): number {
    // Collect first: deleting while an LMDB cursor walks the same table is not safe.
    const keys = [...rangeKvs(this.#dbs, start, end)].map((e) => e.key);
    for (const key of keys) this.delete(key);
    return keys.length;
  }

  /** Creates a lease record with a fresh id. Leases do not change the revision (as in etcd). */
  grantLease(ttlMs: number): bigint {
    const id = requireMeta(this.#dbs, META.leaseSeq) + 1n;
    this.#dbs.meta.putSync(META.leaseSeq, u64(id));
    this.#dbs.leases.putSync(leaseKey(id), encodeLease(ttlMs));
    return id;
  }

  /** Deletes a lease and every key attached to it; returns whether the lease existed. */
  revokeLease(id: bigint): boolean {
    if (!this.leaseExists(id)) return false;
    const entries = [...this.#dbs.lkeys.getKeys({ start: u64(id), end: u64(id + 1n) })].map((k) =>
      Uint8Array.prototype.slice.call(k),
    );
    for (const entry of entries) {
      const key = leaseKeysKeyKey(entry);
      const kv = this.get(key);
      // The index may only name keys still attached to this lease; anything else is a stale entry.
      if (kv && kv.lease === id) this.delete(key);
      else this.#dbs.lkeys.removeSync(Buffer.from(entry));
    }
    this.#dbs.leases.removeSync(leaseKey(id));
    return true;
  }

  /**
   * Ends the transaction's MVCC work: when something changed, stores the new revision and the history
   * of this revision, and drops history that fell out of `retention` revisions.
   * @returns the store revision after the transaction and the changes made at it.
   */
  finish(retention: number): { revision: bigint; events: readonly StoredEvent[] } {
    if (!this.changed) return { revision: this.baseRevision, events: [] };
    const revision = this.revision;
    this.#dbs.meta.putSync(META.revision, u64(revision));
    this.#events.forEach((event, i) => this.#dbs.hist.putSync(histKey(revision, i), encodeEvent(event)));
    const compactRevision = requireMeta(this.#dbs, META.compactRevision);
    const keepFrom = revision - BigInt(retention) + 1n;
    if (keepFrom > compactRevision) {
      const stale = [...this.#dbs.hist.getKeys({ start: histKey(0n, 0), end: histKey(keepFrom, 0) })].map((k) =>
        Buffer.from(k),
      );
      for (const key of stale) this.#dbs.hist.removeSync(key);
      this.#dbs.meta.putSync(META.compactRevision, u64(keepFrom));
    }
    return { revision, events: this.#events };
  }
}
