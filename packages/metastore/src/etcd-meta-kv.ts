import { CloseOnce, isAbortError, noopLogger, raceAbort, throwIfAborted } from '@streamsvc/common';
import type { CallOptions, Logger } from '@streamsvc/common';
import { ExponentialBackoff, noop } from 'cockatiel';
import type { IBackoff } from 'cockatiel';
import type * as Etcd3Exports from 'etcd3';
import type { Etcd3, IKeyValue } from 'etcd3';

import { AsyncQueue } from './async-queue.js';
import { KeySpace, fromWireKv, toWireCompare, toWireOp, wireKeyAfter } from './etcd-codec.js';
import { EtcdLease } from './etcd-lease.js';
import { etcdWatchIterator } from './etcd-watch.js';
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

/** Options of {@link EtcdMetaKv.connect}. */
export interface EtcdMetaKvOptions {
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
  readonly endpoints: readonly string[];
  /** Prefix of every key this store reads and writes (e.g. `'streamsvc/'`); keys are shown without it. Default `''`. */
  readonly namespace?: string;
  /** How long `connect` keeps trying to reach etcd before it fails with UNAVAILABLE. Default 5000 ms. */
  readonly dialTimeoutMs?: number;
  /** Deadline of each request (not of watches or keepalives). Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Where the adapter logs (reconnects, lost leases). Default: silent. */
  readonly logger?: Logger;
}

/** What a failed call was, for error messages. */
export type EtcdErrorContext = string;

const isEtcd3 = (e: unknown, message: RegExp): boolean => e instanceof Error && message.test(e.message);

type Etcd3Module = typeof Etcd3Exports;

/**
 * etcd3 is loaded by the first {@link EtcdMetaKv.connect}, not with this package: it brings its own gRPC
 * stack and lodash (~7 MB of heap, ~20 MB resident), which a process on the embedded store (the
 * standalone server) never uses. Until then no error can come from it, which {@link toMetaKvError} relies on.
 */
let etcd3: Etcd3Module | undefined;

/** Loads etcd3 once; `connect` calls it, and tests that build etcd3's errors themselves. */
export async function loadEtcd3(): Promise<Etcd3Module> {
  etcd3 ??= await import('etcd3');
  return etcd3;
}

/**
 * Translates what etcd3 / grpc-js throw into a {@link MetaKvError} (abort reasons pass through
 * unchanged). The one place that knows etcd's error vocabulary; see the table-driven test.
 */
export function toMetaKvError(e: unknown, ctx: EtcdErrorContext): unknown {
  if (MetaKvError.is(e) || isAbortError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  const wrap = (code: MetaKvErrorCode, text: string): MetaKvError =>
    new MetaKvError(code, `${ctx}: ${text}`, { cause: e });
  const lib = etcd3;
  if (lib !== undefined && e instanceof lib.ClientClosedError) return MetaKvError.closed(ctx);
  if (isEtcd3(e, /required revision has been compacted/))
    return wrap(MetaKvErrorCode.COMPACTED, 'the revision is compacted');
  if (isEtcd3(e, /required revision is a future revision/))
    return wrap(MetaKvErrorCode.INVALID_ARGUMENT, 'the revision is a future revision');
  if ((lib !== undefined && e instanceof lib.EtcdLeaseInvalidError) || isEtcd3(e, /requested lease not found/)) {
    return wrap(MetaKvErrorCode.LEASE_NOT_FOUND, 'the lease does not exist (expired or revoked)');
  }
  if (lib !== undefined && (e instanceof lib.GRPCInvalidArgumentError || e instanceof lib.GRPCOutOfRangeError)) {
    return wrap(MetaKvErrorCode.INVALID_ARGUMENT, `etcd refused the request: ${message}`);
  }
  if (lib !== undefined && e instanceof lib.EtcdPermissionDeniedError)
    return wrap(MetaKvErrorCode.INVALID_ARGUMENT, `permission denied: ${message}`);
  if (
    e instanceof Error &&
    ((lib?.isRecoverableError(e) ?? false) ||
      e.name === 'BrokenCircuitError' ||
      /circuit breaker is open/.test(message))
  ) {
    return wrap(MetaKvErrorCode.UNAVAILABLE, `etcd is unavailable: ${message}`);
  }
  // Anything else (unknown etcd errors, a watch cancelled by etcd, stream ends) is a retriable outage:
  // callers retry on UNAVAILABLE, never on a message.
  return wrap(MetaKvErrorCode.UNAVAILABLE, `etcd call failed: ${message}`);
}

/**
 * The MetaKV port on etcd v3 (via etcd3), for clusters. Keys live under an optional namespace.
 * Requests carry a deadline; etcd3's per-host circuit breaker is disabled so a restarted etcd is used
 * again as soon as it answers, and watches and keepalives reconnect on their own with a short backoff.
 */
export class EtcdMetaKv implements MetaKv {
  readonly kind = 'etcd';
  readonly #client: Etcd3;
  readonly #space: KeySpace;
  readonly #log: Logger;
  readonly #leases = new Set<EtcdLease>();
  readonly #watches = new Set<AsyncQueue<WatchEvent>>();
  readonly #closeOnce = new CloseOnce();
  #closed = false;

  private constructor(client: Etcd3, space: KeySpace, log: Logger) {
    this.#client = client;
    this.#space = space;
    this.#log = log;
  }

  /**
   * Creates the client and waits (up to `dialTimeoutMs`) until etcd answers a read.
   * @throws {MetaKvError} UNAVAILABLE when etcd cannot be reached in time; INVALID_ARGUMENT for bad options.
   */
  static async connect(options: EtcdMetaKvOptions): Promise<EtcdMetaKv> {
    const endpoints = options?.endpoints;
    if (
      !Array.isArray(endpoints) ||
      endpoints.length === 0 ||
      !endpoints.every((x) => typeof x === 'string' && x.length > 0)
    ) {
      throw invalid('etcd endpoints must be a non-empty list of URLs');
    }
    const namespace = options.namespace ?? '';
    if (typeof namespace !== 'string') throw invalid('etcd namespace must be a string');
    const dialTimeoutMs = options.dialTimeoutMs ?? 5000;
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    const log = (options.logger ?? noopLogger).child({ component: 'metastore', store: 'etcd' });
    const { Etcd3 } = await loadEtcd3();
    const client = new Etcd3({
      hosts: [...endpoints],
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      faultHandling: {
        // etcd3's default breaker blocks a host for 5 s after 3 failures, i.e. well after a restarted etcd
        // is back. Errors surface as UNAVAILABLE instead and callers retry.
        host: () => noop,
        global: noop,
        // etcd3 types this as an IBackoff but uses it as the factory it is (`.next()` per reconnect).
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
      },
      grpcOptions: {
        // grpc-js waits 1 s, then up to 120 s between reconnect attempts by default.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
    });
    const kv = new EtcdMetaKv(client, new KeySpace(namespace), log);
    const deadline = Date.now() + dialTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await kv.revision();
        log.info({ endpoints, namespace }, 'connected');
        return kv;
      } catch (e) {
        if (Date.now() + 100 >= deadline) {
          await kv.close();
          throw new MetaKvError(
            MetaKvErrorCode.UNAVAILABLE,
            `cannot reach etcd at ${endpoints.join(', ')} within ${dialTimeoutMs} ms (${attempt} attempts)`,
            { cause: e },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async get(key: string, options: CallOptions = {}): Promise<KeyValue | undefined> {
    this.#checkOpen('get');
    checkKey(key);
    const res = await this.#call('get', options, () => this.#client.kv.range({ key: this.#space.key(key) }));
    const kv = res.kvs[0];
    return kv ? fromWireKv(this.#space, kv) : undefined;
  }

  async put(key: string, value: Uint8Array | string, options: PutOptions = {}): Promise<WriteResult> {
    this.#checkOpen('put');
    checkKey(key);
    checkValue(value);
    if (options.lease !== undefined) checkLeaseId(options.lease, 'put lease');
    const op = toWireOp(this.#space, { type: 'put', key, value, lease: options.lease });
    const res = await this.#call('put', options, () => this.#client.kv.put('request_put' in op ? op.request_put : {}));
    return { revision: BigInt(res.header.revision) };
  }

  async delete(key: string, options: CallOptions = {}): Promise<DeleteResult> {
    this.#checkOpen('delete');
    checkKey(key);
    const res = await this.#call('delete', options, () => this.#client.kv.deleteRange({ key: this.#space.key(key) }));
    return { deleted: Number(res.deleted), revision: BigInt(res.header.revision) };
  }

  async deletePrefix(prefix: string, options: CallOptions = {}): Promise<DeleteResult> {
    this.#checkOpen('deletePrefix');
    checkPrefix(prefix, false);
    const res = await this.#call('deletePrefix', options, () =>
      this.#client.kv.deleteRange(this.#space.prefixRange(prefix)),
    );
    return { deleted: Number(res.deleted), revision: BigInt(res.header.revision) };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    this.#checkOpen('list');
    const { limit, startAfter, atRevision } = checkList(prefix, options);
    const from = startAfter === undefined ? undefined : wireKeyAfter(this.#space, startAfter);
    // With startAfter past the prefix the range is inverted; etcd answers it with no keys.
    const range = this.#space.prefixRange(prefix, from);
    const res = await this.#call('list', options, () =>
      this.#client.kv.range({ ...range, limit, ...(atRevision === undefined ? {} : { revision: String(atRevision) }) }),
    );
    return {
      kvs: res.kvs.map((kv) => fromWireKv(this.#space, kv)),
      more: res.more,
      revision: atRevision ?? BigInt(res.header.revision),
    };
  }

  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    this.#checkOpen('txn');
    checkTxn(request);
    const wire = {
      compare: request.compare.map((c) => toWireCompare(this.#space, c)),
      success: request.success.map((op) => toWireOp(this.#space, op)),
      failure: (request.failure ?? []).map((op) => toWireOp(this.#space, op)),
    };
    const res = await this.#call('txn', options, () => this.#client.kv.txn(wire));
    const ops = res.succeeded ? request.success : (request.failure ?? []);
    const results = ops.map((op, i) => {
      if (op.type !== 'get') return undefined;
      const kv: IKeyValue | undefined = res.responses[i]?.response_range?.kvs[0];
      return kv ? fromWireKv(this.#space, kv) : undefined;
    });
    return { succeeded: res.succeeded, revision: BigInt(res.header.revision), results };
  }

  watch(key: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    try {
      this.#checkOpen('watch');
      if (options.prefix) checkPrefix(key, true, 'watch key');
      else checkKey(key, 'watch key');
      if (options.fromRevision !== undefined) checkRevision(options.fromRevision, 'watch fromRevision');
    } catch (e) {
      const failed = new AsyncQueue<WatchEvent>();
      failed.fail(e);
      return failed;
    }
    const builder = this.#client.watch();
    if (options.prefix) {
      const range = this.#space.prefixRange(key);
      builder.inRange({ start: range.key, end: range.range_end });
    } else {
      builder.key(this.#space.key(key));
    }
    if (options.fromRevision !== undefined) builder.startRevision(String(options.fromRevision));
    const signal = options.signal;
    const onAbort = (): void => queue.stop();
    const queue = etcdWatchIterator(
      builder.watcher(),
      options.fromRevision,
      { space: this.#space, log: this.#log, explainCancel: (err, next) => this.#explainCancel(err, next) },
      () => {
        this.#watches.delete(queue);
        signal?.removeEventListener('abort', onAbort);
      },
    );
    this.#watches.add(queue);
    if (signal?.aborted) queue.stop();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return queue;
  }

  async grantLease(ttlMs: number, options: GrantLeaseOptions = {}): Promise<Lease> {
    this.#checkOpen('grantLease');
    const seconds = leaseTtlSeconds(ttlMs);
    const sentAt = Date.now();
    const res = await this.#call('grantLease', options, () => this.#client.leaseClient.leaseGrant({ TTL: seconds }));
    // etcd raises TTLs below its minimum (about 2 s with default election settings); use what it granted.
    const ttl = Math.max(Number(res.TTL), seconds);
    const handle = EtcdLease.start(res.ID, ttl * 1000, sentAt, options.keepAlive ?? true, {
      openKeepAlive: () => this.#client.leaseClient.leaseKeepAlive(),
      revoke: (id, o) => this.#revoke('revoke', id, o).then(() => {}),
      log: this.#log,
      onDone: (l) => this.#leases.delete(l),
      nowMs: Date.now,
    });
    if (this.#closed) handle.abandon({ reason: 'closed' });
    else this.#leases.add(handle);
    return handle;
  }

  async revokeLease(id: LeaseId, options: CallOptions = {}): Promise<boolean> {
    this.#checkOpen('revokeLease');
    checkLeaseId(id);
    const existed = await this.#revoke('revokeLease', id, options);
    // A handle of this client learns at once, as in the embedded store (others at their next keepalive).
    for (const lease of this.#leases) if (lease.id === id) lease.abandon({ reason: 'expired' });
    return existed;
  }

  async revision(options: CallOptions = {}): Promise<bigint> {
    this.#checkOpen('revision');
    const res = await this.#call('revision', options, () =>
      this.#client.kv.range({ key: this.#space.key('\0'), keys_only: true, limit: 1 }),
    );
    return BigInt(res.header.revision);
  }

  close(): Promise<void> {
    return this.#closeOnce.run(async () => {
      this.#closed = true;
      for (const lease of [...this.#leases]) lease.abandon({ reason: 'closed' });
      for (const watch of [...this.#watches]) watch.end();
      // Let watch cancellations reach etcd3 before its channels go.
      await new Promise((r) => setImmediate(r));
      this.#client.close();
      this.#log.info('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkOpen(op: string): void {
    if (this.#closed) throw MetaKvError.closed(op);
  }

  /** Runs one etcd call with error translation; an abort abandons it (its outcome is unknown). */
  async #call<T>(op: string, options: CallOptions, fn: () => Promise<T>): Promise<T> {
    throwIfAborted(options.signal);
    try {
      return await raceAbort(fn(), options.signal);
    } catch (e) {
      throw this.#closed && !isAbortError(e) ? MetaKvError.closed(op) : toMetaKvError(e, op);
    }
  }

  /** Revokes lease `id`; resolves with whether etcd still had it. */
  #revoke(op: string, id: LeaseId, options: CallOptions): Promise<boolean> {
    return this.#call(op, options, () => this.#client.leaseClient.leaseRevoke({ ID: id })).then(
      () => true,
      (e: unknown) => {
        if (MetaKvError.is(e, MetaKvErrorCode.LEASE_NOT_FOUND)) return false;
        throw e;
      },
    );
  }

  /** etcd cancels a compacted watch without telling the client why; a read at `next` tells. */
  async #explainCancel(err: unknown, next: bigint | undefined): Promise<unknown> {
    if (this.#closed) return MetaKvError.closed('watch');
    if (next !== undefined) {
      const probe = await this.#client.kv
        .range({ key: this.#space.key('\0'), keys_only: true, limit: 1, revision: String(next) })
        .then(
          () => undefined,
          (e: unknown) => toMetaKvError(e, 'watch'),
        );
      if (MetaKvError.is(probe, MetaKvErrorCode.COMPACTED)) {
        return new MetaKvError(MetaKvErrorCode.COMPACTED, `watch: revision ${next} is compacted`, { cause: err });
      }
    }
    return toMetaKvError(err, 'watch cancelled by etcd');
  }
}
