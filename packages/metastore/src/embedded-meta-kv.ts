import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { CloseOnce, noopLogger, raceAbort, systemClock, throwIfAborted } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { open as openLmdb } from 'lmdb';

import { AsyncQueue } from './async-queue.js';
import { prefixEnd, toBytes, utf8 } from './bytes.js';
import { EmbeddedLease, LeaseTable } from './embedded-leases.js';
import { checkNotCompacted, listAt, readHistory } from './embedded-history.js';
import type { EmbeddedDbs } from './embedded-mvcc.js';
import { META, MvccWrite, readKv, readMeta, requireMeta } from './embedded-mvcc.js';
import type { StoredEvent } from './embedded-records.js';
import { FORMAT_VERSION, corrupt, decodeLease, readU64, u64 } from './embedded-records.js';
import { applyTxn, checkLeases, toKeyValue } from './embedded-txn.js';
import { WatchHub, toWatchEvent, wants } from './embedded-watch-hub.js';
import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type {
  DeleteResult,
  GrantLeaseOptions,
  KeyValue,
  Lease,
  LeaseId,
  ListOptions,
  ListPage,
  MetaKv,
  PutOptions,
  TxnRequest,
  TxnResult,
  WatchEvent,
  WatchOptions,
  WriteResult,
} from './meta-kv.js';
import { acquireSingleWriterLock } from './single-writer-lock.js';
import type { SingleWriterLock } from './single-writer-lock.js';
import {
  checkKey,
  checkLeaseId,
  checkList,
  checkPrefix,
  checkRevision,
  checkTxn,
  checkValue,
  invalid,
  leaseTtlSeconds,
} from './validate.js';

/** Options of {@link EmbeddedMetaKv.open}. */
export interface EmbeddedMetaKvOptions {
  /** Directory of the database (created if missing). Holds `meta.mdb` and `meta.mdb-lock`. */
  readonly path: string;
  /** Where the store logs (lease expiry failures, open/close). Default: silent. */
  readonly logger?: Logger;
  /** Drives lease expiry. Default: the system clock. Tests pass a `ManualClock`. */
  readonly clock?: Clock;
  /**
   * How many revisions of change history to keep for watch replay and `atRevision` reads. Older
   * revisions answer COMPACTED. Default 10 000.
   */
  readonly historyRetention?: number;
}

/** Default of {@link EmbeddedMetaKvOptions.historyRetention}. */
export const DEFAULT_HISTORY_RETENTION = 10_000;

/** Translates what LMDB throws into the port's error. */
function toEmbeddedError(e: unknown, op: string): unknown {
  if (MetaKvError.is(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/MDB_CORRUPTED|MDB_PAGE_NOTFOUND|MDB_INVALID|MDB_VERSION_MISMATCH|MDB_BAD_TXN/.test(message)) {
    return new MetaKvError(MetaKvErrorCode.CORRUPT, `${op}: embedded database is damaged: ${message}`, { cause: e });
  }
  if (/has been closed|is closed/i.test(message)) return MetaKvError.closed(op);
  return new MetaKvError(MetaKvErrorCode.UNAVAILABLE, `${op}: embedded database error: ${message}`, { cause: e });
}

/**
 * The MetaKV port on an embedded LMDB database, for the single-process standalone deployment: the
 * same semantics as etcd (global revision, create/mod revision and version, atomic CAS transactions,
 * paginated prefix listing at a revision, watch with history replay, leases with TTL) in one process.
 *
 * Every write is committed and fsynced before its promise resolves, so a `kill -9` loses no
 * acknowledged write. One store at a time may open a database (LOCKED otherwise).
 */
export class EmbeddedMetaKv implements MetaKv {
  readonly kind = 'embedded';
  readonly #dbs: EmbeddedDbs;
  readonly #lock: SingleWriterLock;
  readonly #log: Logger;
  readonly #retention: number;
  readonly #hub: WatchHub;
  readonly #leases: LeaseTable;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #closeOnce = new CloseOnce();
  #closed = false;

  private constructor(dbs: EmbeddedDbs, lock: SingleWriterLock, log: Logger, clock: Clock, retention: number) {
    this.#dbs = dbs;
    this.#lock = lock;
    this.#log = log;
    this.#retention = retention;
    this.#hub = new WatchHub(requireMeta(dbs, META.revision));
    this.#leases = new LeaseTable(clock, (id) => this.#expireLease(id), log);
  }

  /**
   * Opens (creating if needed) the database in `options.path` and takes its single-writer lock.
   * Leases stored by an earlier run get a fresh TTL from now, as etcd does after a restart.
   * @throws {MetaKvError} LOCKED when another store has the database open; CORRUPT when it is
   *   unreadable or of an unknown format; INVALID_ARGUMENT for bad options.
   */
  static async open(options: EmbeddedMetaKvOptions): Promise<EmbeddedMetaKv> {
    if (typeof options?.path !== 'string' || options.path.length === 0)
      throw invalid('embedded store path must be a non-empty string');
    const retention = options.historyRetention ?? DEFAULT_HISTORY_RETENTION;
    if (!Number.isInteger(retention) || retention < 1) {
      throw invalid(`historyRetention must be an integer of at least 1 (got ${retention})`);
    }
    const log = (options.logger ?? noopLogger).child({ component: 'metastore', store: 'embedded' });
    let lock: SingleWriterLock;
    try {
      await mkdir(options.path, { recursive: true });
      lock = await acquireSingleWriterLock(options.path);
    } catch (e) {
      throw toEmbeddedError(e, 'open');
    }
    let dbs: EmbeddedDbs | undefined;
    try {
      // overlappingSync off: a commit resolves only once LMDB has fsynced it (durable, not just visible).
      const root = openLmdb({ path: path.join(options.path, 'meta.mdb'), maxDbs: 8, overlappingSync: false });
      const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
      dbs = {
        root,
        kv: root.openDB<Buffer, Buffer>({ name: 'kv', ...binary }),
        hist: root.openDB<Buffer, Buffer>({ name: 'hist', ...binary }),
        leases: root.openDB<Buffer, Buffer>({ name: 'leases', ...binary }),
        lkeys: root.openDB<Buffer, Buffer>({ name: 'lkeys', ...binary }),
        meta: root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }),
      };
      const ready = dbs;
      await root.childTransaction(() => EmbeddedMetaKv.#initialise(ready));
      const store = new EmbeddedMetaKv(ready, lock, log, options.clock ?? systemClock, retention);
      for (const { key, value } of ready.leases.getRange({})) {
        store.#leases.load(readU64(key, 0, 'lease id'), decodeLease(value).ttlMs);
      }
      log.info(
        { path: options.path, revision: String(store.#hub.publishedRevision), leases: store.#leases.size },
        'opened',
      );
      return store;
    } catch (e) {
      await dbs?.root.close().catch(() => {});
      await lock.release();
      throw toEmbeddedError(e, 'open');
    }
  }

  /** Creates the counters of a new database, or checks the format of an existing one. */
  static #initialise(dbs: EmbeddedDbs): void {
    const format = readMeta(dbs, META.format);
    if (format === undefined) {
      if (dbs.kv.getKeysCount({ limit: 1 }) > 0) throw corrupt('keys exist but the format marker is missing');
      dbs.meta.putSync(META.format, u64(FORMAT_VERSION));
      // A fresh store is at revision 1, like a fresh etcd; the first write is revision 2.
      dbs.meta.putSync(META.revision, u64(1n));
      dbs.meta.putSync(META.compactRevision, u64(0n));
      dbs.meta.putSync(META.leaseSeq, u64(0n));
    } else if (format !== FORMAT_VERSION) {
      throw corrupt(`unknown format ${format} (this version reads format ${FORMAT_VERSION})`);
    }
  }

  async get(key: string, options: CallOptions = {}): Promise<KeyValue | undefined> {
    this.#checkOpen('get');
    checkKey(key);
    throwIfAborted(options.signal);
    const kv = this.#read('get', () => readKv(this.#dbs, utf8(key)));
    return kv ? toKeyValue(key, kv) : undefined;
  }

  async put(key: string, value: Uint8Array | string, options: PutOptions = {}): Promise<WriteResult> {
    this.#checkOpen('put');
    checkKey(key);
    checkValue(value);
    const lease = options.lease;
    if (lease !== undefined) checkLeaseId(lease, 'put lease');
    const op = { type: 'put', key, value, lease } as const;
    const bytes = toBytes(value);
    const done = this.#commit('put', (w) => {
      checkLeases(w, [op]);
      w.put(utf8(key), bytes, lease === undefined ? 0n : BigInt(lease));
    });
    return raceAbort(
      done.then(({ revision }) => ({ revision })),
      options.signal,
    );
  }

  async delete(key: string, options: CallOptions = {}): Promise<DeleteResult> {
    this.#checkOpen('delete');
    checkKey(key);
    const done = this.#commit('delete', (w) => (w.delete(utf8(key)) ? 1 : 0));
    return raceAbort(
      done.then(({ value, revision }) => ({ deleted: value, revision })),
      options.signal,
    );
  }

  async deletePrefix(prefix: string, options: CallOptions = {}): Promise<DeleteResult> {
    this.#checkOpen('deletePrefix');
    checkPrefix(prefix, false);
    const bytes = utf8(prefix);
    const done = this.#commit('deletePrefix', (w) => w.deleteRange(bytes, prefixEnd(bytes)));
    return raceAbort(
      done.then(({ value, revision }) => ({ deleted: value, revision })),
      options.signal,
    );
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.#checkOpen('list');
    const { limit, startAfter, atRevision } = checkList(prefix, options);
    throwIfAborted(options.signal);
    // Synchronous from here on: LMDB-js renews its read snapshot only between event-loop turns (after
    // a commit), so the revision and every key below come from one snapshot.
    return this.#read('list', () => {
      const currentRevision = requireMeta(this.#dbs, META.revision);
      const at = atRevision ?? currentRevision;
      if (at > currentRevision)
        throw invalid(`list atRevision ${at} is a future revision (the store is at ${currentRevision})`);
      checkNotCompacted(this.#dbs, at, 'list atRevision');
      const page = listAt(this.#dbs, { prefix, startAfter, limit, atRevision: at, currentRevision });
      return { ...page, revision: at };
    });
  }

  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    this.#checkOpen('txn');
    checkTxn(request);
    const done = this.#commit('txn', (w) => applyTxn(w, request));
    return raceAbort(
      done.then(({ value, revision }) => ({ succeeded: value.succeeded, results: value.results, revision })),
      options.signal,
    );
  }

  watch(key: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const signal = options.signal;
    let unsubscribe = (): void => {};
    const onAbort = (): void => queue.stop();
    const queue = new AsyncQueue<WatchEvent>(() => {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    });
    try {
      this.#checkOpen('watch');
      if (options.prefix) checkPrefix(key, true, 'watch key');
      else checkKey(key, 'watch key');
      if (options.fromRevision !== undefined) checkRevision(options.fromRevision, 'watch fromRevision');
      if (signal?.aborted) {
        queue.stop();
        return queue;
      }
      const subscriber = { key: utf8(key), prefix: options.prefix ?? false };
      // Replay up to the hub's published revision, then take live changes after it: both happen in this
      // synchronous block, so no change can fall between them.
      const published = this.#hub.publishedRevision;
      const from = options.fromRevision ?? published + 1n;
      if (options.fromRevision !== undefined) {
        this.#read('watch', () => {
          checkNotCompacted(this.#dbs, from, 'watch fromRevision');
          for (const { revision, event } of readHistory(this.#dbs, from, published)) {
            if (wants(subscriber, event.key)) queue.push(toWatchEvent(revision, event));
          }
        });
      }
      const fromRevision = from > published ? from : published + 1n;
      unsubscribe = this.#hub.subscribe({ ...subscriber, fromRevision, queue });
      signal?.addEventListener('abort', onAbort, { once: true });
    } catch (e) {
      queue.fail(e);
    }
    return queue;
  }

  async grantLease(ttlMs: number, options: GrantLeaseOptions = {}): Promise<Lease> {
    this.#checkOpen('grantLease');
    const ttl = leaseTtlSeconds(ttlMs) * 1000;
    const keepAlive = options.keepAlive ?? true;
    const done = this.#commit('grantLease', (w) => w.grantLease(ttl)).then(({ value: id }) => {
      // Registered even if the caller aborted (nobody gets the handle then, so it is not kept alive):
      // the lease still expires on time.
      const handle = new EmbeddedLease(String(id), ttl, (lease, o) => this.#revokeByHandle(lease, o));
      this.#leases.add(id, ttl, keepAlive && !options.signal?.aborted, handle);
      return handle;
    });
    return raceAbort(done, options.signal);
  }

  async revokeLease(id: LeaseId, options: CallOptions = {}): Promise<boolean> {
    this.#checkOpen('revokeLease');
    checkLeaseId(id);
    const done = this.#commit('revokeLease', (w) => w.revokeLease(BigInt(id))).then(({ value }) => {
      this.#leases.remove(BigInt(id), () => ({ reason: 'expired' }));
      return value;
    });
    return raceAbort(done, options.signal);
  }

  async revision(options: CallOptions = {}): Promise<bigint> {
    this.#checkOpen('revision');
    throwIfAborted(options.signal);
    return this.#read('revision', () => requireMeta(this.#dbs, META.revision));
  }

  close(): Promise<void> {
    return this.#closeOnce.run(async () => {
      this.#closed = true;
      this.#leases.close();
      this.#hub.closeAll();
      await Promise.allSettled([...this.#inflight]);
      await this.#leases.idle();
      await this.#dbs.root.close().catch((e: unknown) => this.#log.warn({ err: e }, 'closing LMDB failed'));
      await this.#lock.release();
      this.#log.info('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkOpen(op: string): void {
    if (this.#closed) throw MetaKvError.closed(op);
  }

  #read<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toEmbeddedError(e, op);
    }
  }

  /**
   * Runs `fn` in its own (nested, abortable) LMDB write transaction and resolves once it is committed
   * and fsynced, after publishing its changes to watchers. Not abortable: callers race the signal.
   */
  #commit<T>(op: string, fn: (w: MvccWrite) => T): Promise<{ value: T; revision: bigint }> {
    const run = async (): Promise<{ value: T; revision: bigint }> => {
      let out: { value: T; revision: bigint; events: readonly StoredEvent[] };
      try {
        // A child transaction, so an exception inside `fn` undoes whatever it wrote before throwing.
        out = await this.#dbs.root.childTransaction(() => {
          const w = new MvccWrite(this.#dbs);
          const value = fn(w);
          return { value, ...w.finish(this.#retention) };
        });
      } catch (e) {
        throw toEmbeddedError(e, op);
      }
      if (out.events.length > 0) this.#hub.publish(out.revision, out.events);
      return { value: out.value, revision: out.revision };
    };
    const promise = run();
    this.#inflight.add(promise);
    void promise.finally(() => this.#inflight.delete(promise)).catch(() => {});
    return promise;
  }

  async #revokeByHandle(handle: EmbeddedLease, options: CallOptions): Promise<void> {
    const id = BigInt(handle.id);
    if (this.#closed) return; // the handle settled with 'closed'; the lease expires after a reopen
    const done = this.#commit('revoke', (w) => w.revokeLease(id)).then(
      () => this.#leases.remove(id, (h) => (h === handle ? { reason: 'revoked' } : { reason: 'expired' })),
      (e: unknown) => {
        // Stop keeping it alive so it expires on its own; the handle is done either way.
        this.#leases.release(id);
        handle.settle({ reason: 'revoked', error: e });
        throw e;
      },
    );
    return raceAbort(done, options.signal);
  }

  async #expireLease(id: bigint): Promise<void> {
    if (this.#closed) return;
    await this.#commit('expireLease', (w) => w.revokeLease(id));
    this.#leases.remove(id, () => ({ reason: 'expired' }));
  }
}
