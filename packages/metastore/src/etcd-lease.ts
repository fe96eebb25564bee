/**
 * The etcd adapter's lease handle, with its own keepalive loop over etcd's LeaseKeepAlive stream.
 *
 * Why not etcd3's `Lease`: it tells its owner only after *twice* the TTL without a keepalive, and it
 * re-arms a TTL-long timer when a late answer arrives after it was released (keeping a process alive
 * for a TTL after close). Neither suits a leader. This loop keeps the guarantee the port promises —
 * the owner learns the lease is gone no later than etcd can have expired it:
 *
 * - every TTL/3 a keepalive is sent (etcd's own client does the same), and its send time remembered;
 * - an answer with TTL > 0 proves etcd refreshed the lease at or after that send time, so the lease
 *   lives at least until *send time + TTL*: that is the deadline;
 * - an answer with TTL 0 (the lease is gone: expired, or revoked by someone else) or a passed deadline
 *   settles `lost` with `'expired'`; a passed deadline also sends a best-effort revoke, so the keys go
 *   now rather than linger until etcd notices;
 * - a broken stream is reopened after a short pause; answers on the old stream are ignored.
 */
import type { CallOptions, Logger } from '@streamsvc/common';
import { deferred, raceAbort } from '@streamsvc/common';

import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type { Lease, LeaseId, MetaKvLeaseLost } from './meta-kv.js';

/** etcd's LeaseKeepAlive bidirectional stream, as etcd3 exposes it. */
export interface KeepAliveStream {
  write(request: { ID: string }): void;
  cancel(): void;
  on(event: 'data', fn: (response: { TTL: string }) => void): unknown;
  on(event: 'error', fn: (err: unknown) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
}

/** What the handle needs from the adapter. */
export interface EtcdLeaseDeps {
  /** Opens a keepalive stream (it may fail later, through its 'error' event). */
  readonly openKeepAlive: () => Promise<KeepAliveStream>;
  /** Revokes the lease; resolves also when etcd no longer has it. */
  readonly revoke: (id: LeaseId, options: CallOptions) => Promise<void>;
  readonly log: Logger;
  /** Called once when the handle is done, so the adapter forgets it. */
  readonly onDone: (lease: EtcdLease) => void;
  /** Current time in ms. */
  readonly nowMs: () => number;
  /** Pause before reopening a broken keepalive stream. Default 200 ms. */
  readonly reconnectDelayMs?: number;
}

/** See the module comment. */
export class EtcdLease implements Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  readonly lost: Promise<MetaKvLeaseLost>;
  readonly #deps: EtcdLeaseDeps;
  readonly #settleLost: (lost: MetaKvLeaseLost) => void;
  /** A time at or before which etcd last refreshed the lease: it lives until this + TTL. */
  #refreshedAtMs: number;
  /** Send times of keepalives on the current stream not yet answered, oldest first. */
  #sent: number[] = [];
  #stream: KeepAliveStream | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #sendTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #isLost = false;
  #revoking: Promise<void> | undefined;

  /**
   * A handle for the granted lease `id`; `grantSentAtMs` is when the grant was sent (etcd cannot have
   * started the TTL earlier). Nothing happens until {@link EtcdLease.start}.
   */
  private constructor(id: LeaseId, ttlMs: number, grantSentAtMs: number, deps: EtcdLeaseDeps) {
    this.id = id;
    this.ttlMs = ttlMs;
    this.#deps = deps;
    this.#refreshedAtMs = grantSentAtMs;
    const lost = deferred<MetaKvLeaseLost>();
    this.lost = lost.promise;
    this.#settleLost = lost.resolve;
  }

  /** Creates the handle and starts its deadline and (unless `keepAlive` is false) its keepalives. */
  static start(id: LeaseId, ttlMs: number, grantSentAtMs: number, keepAlive: boolean, deps: EtcdLeaseDeps): EtcdLease {
    const lease = new EtcdLease(id, ttlMs, grantSentAtMs, deps);
    lease.#armDeadline();
    if (keepAlive) {
      lease.#sendTimer = setInterval(() => lease.#send(), Math.max(100, Math.floor(ttlMs / 3)));
      lease.#connect();
    }
    return lease;
  }

  get isLost(): boolean {
    return this.#isLost;
  }

  revoke(options: CallOptions = {}): Promise<void> {
    if (this.#isLost && this.#revoking === undefined) return Promise.resolve();
    this.#stopKeepAlive();
    this.#revoking ??= this.#deps.revoke(this.id, {}).then(
      () => this.#end({ reason: 'revoked' }),
      (e: unknown) => {
        // Keepalives have stopped, so the lease expires on its own: the handle is done either way.
        this.#end({ reason: 'revoked', error: e });
        throw e;
      },
    );
    return raceAbort(this.#revoking, options.signal);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.revoke();
  }

  /** Settles `lost` without talking to etcd (someone revoked it by id, or the store closed). */
  abandon(lost: MetaKvLeaseLost): void {
    this.#end(lost);
  }

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#isLost || this.#sendTimer === undefined) return;
    this.#deps.openKeepAlive().then(
      (stream) => {
        if (this.#isLost || this.#sendTimer === undefined) {
          stream.on('error', () => {});
          stream.cancel();
          return;
        }
        this.#stream = stream;
        stream.on('data', (res) => this.#answered(stream, res));
        stream.on('error', (err) => this.#broken(stream, err));
        stream.on('end', () => this.#broken(stream, undefined));
        this.#send();
      },
      (err: unknown) => this.#broken(undefined, err),
    );
  }

  #send(): void {
    const stream = this.#stream;
    if (!stream || this.#isLost) return;
    this.#sent.push(this.#deps.nowMs());
    stream.write({ ID: this.id });
  }

  #answered(stream: KeepAliveStream, res: { TTL: string }): void {
    if (stream !== this.#stream || this.#isLost) return;
    const sentAt = this.#sent.shift() ?? this.#refreshedAtMs;
    if (Number(res.TTL) <= 0) {
      const error = new MetaKvError(MetaKvErrorCode.LEASE_NOT_FOUND, `lease ${this.id} is gone (expired or revoked)`);
      this.#deps.log.warn({ lease: this.id }, 'etcd says the lease is gone');
      this.#end({ reason: 'expired', error });
      return;
    }
    if (sentAt > this.#refreshedAtMs) this.#refreshedAtMs = sentAt;
  }

  #broken(stream: KeepAliveStream | undefined, err: unknown): void {
    if (stream !== undefined && stream !== this.#stream) return;
    this.#stream = undefined;
    this.#sent = []; // never answered now
    if (this.#isLost || this.#sendTimer === undefined || this.#reconnectTimer) return;
    this.#deps.log.debug({ lease: this.id, err }, 'keepalive stream broke; reopening');
    this.#reconnectTimer = setTimeout(() => this.#connect(), this.#deps.reconnectDelayMs ?? 200);
  }

  /** Wakes up when the deadline could have passed; sleeps again if an answer moved it. */
  #armDeadline(): void {
    this.#deadlineTimer = undefined;
    if (this.#isLost) return;
    const wait = this.#refreshedAtMs + this.ttlMs - this.#deps.nowMs();
    if (wait > 0) {
      this.#deadlineTimer = setTimeout(() => this.#armDeadline(), wait);
      return;
    }
    const keptAlive = this.#sendTimer !== undefined;
    const why = keptAlive
      ? `no keepalive was answered within its TTL of ${this.ttlMs} ms`
      : `its TTL of ${this.ttlMs} ms has passed`;
    if (keptAlive)
      this.#deps.log.warn(
        { lease: this.id, ttlMs: this.ttlMs },
        'lease considered lost: no keepalive answered within the TTL',
      );
    this.#end({
      reason: 'expired',
      error: new MetaKvError(MetaKvErrorCode.LEASE_NOT_FOUND, `lease ${this.id} expired: ${why}`),
    });
    // Best effort: if etcd still has the lease, its keys should go now rather than after the TTL.
    this.#deps.revoke(this.id, {}).catch(() => {});
  }

  #stopKeepAlive(): void {
    clearInterval(this.#sendTimer);
    clearTimeout(this.#reconnectTimer);
    this.#sendTimer = undefined;
    this.#reconnectTimer = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) {
      stream.on('error', () => {}); // the cancel itself arrives as an error
      stream.cancel();
    }
  }

  #end(lost: MetaKvLeaseLost): void {
    if (this.#isLost) return;
    this.#isLost = true;
    this.#stopKeepAlive();
    clearTimeout(this.#deadlineTimer);
    this.#settleLost(lost);
    this.#deps.onDone(this);
  }
}
