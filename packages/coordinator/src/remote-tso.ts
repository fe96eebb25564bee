import { credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CloseOnce, noopLogger, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { StreamingError, stripStreamingPrefix } from '@streamsvc/message';
import { observeLeader } from '@streamsvc/metastore';
import type { MetaKv } from '@streamsvc/metastore';
import { readStreamingErrorMetadata, TsoServiceClient } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import type { ClusterKeys } from './node-sessions.js';

/** At most this long for one AllocTimestamp call, so that a hung coordinator leaves time for retries. */
const CALL_TIMEOUT_MS = 5_000;

export interface RemoteTsoSourceOptions {
  readonly kv: MetaKv;
  readonly keys: ClusterKeys;
  /** Give up on one allocation after this long (the coordinator is failing over). Default 30 s. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The global TSO as a streaming node reaches it: AllocTimestamp on the active coordinator, whose
 * address it follows in the coordinator election (MetaKV), so a node needs no list of coordinators and
 * follows a failover as soon as the new leader is elected. Failed calls are retried (50 ms → 1 s) until
 * `timeoutMs`.
 */
export class RemoteTsoSource implements TsoSource, AsyncDisposable {
  readonly #o: RemoteTsoSourceOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #closer = new CloseOnce();
  #leader: string | undefined;
  /** Counts changes of the active coordinator, so an allocation can tell whether one happened since it looked. */
  #leaderVersion = 0;
  /**
   * Wakes the allocations waiting for a retry, all called on every leader change. Each wait adds its own
   * function and deletes it when it ends, however it ends, so the set holds exactly the waits in
   * progress: a leader that keeps failing costs nothing per retry. (A shared promise resolved on the
   * change kept a reaction per retry until the leader changed.)
   */
  readonly #wakeOnLeaderChange = new Set<() => void>();
  #client: { address: string; client: TsoServiceClient } | undefined;
  readonly #watch: Promise<void>;

  constructor(options: RemoteTsoSourceOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'remote-tso' });
    this.#watch = this.#follow();
  }

  async allocate(count: number, options: CallOptions = {}): Promise<bigint> {
    const deadline = this.#clock.nowMs() + (this.#o.timeoutMs ?? 30_000);
    let delay = 50;
    let last: unknown;
    for (;;) {
      options.signal?.throwIfAborted();
      if (this.#stop.signal.aborted) throw closedError();
      const address = this.#leader;
      // Taken with the address: a leader change during the call below must cut the wait after it short.
      const version = this.#leaderVersion;
      const leftMs = deadline - this.#clock.nowMs();
      if (address !== undefined && leftMs > 0) {
        try {
          return await this.#call(address, count, Math.min(CALL_TIMEOUT_MS, leftMs), options.signal);
        } catch (e) {
          if (options.signal?.aborted) throw options.signal.reason;
          if (this.#stop.signal.aborted) throw closedError();
          last = e;
        }
      }
      if (this.#clock.nowMs() + delay > deadline) {
        // The last error by its message alone: String() would add its class name and a second prefix.
        const reason =
          address === undefined
            ? 'no active coordinator'
            : last instanceof Error
              ? stripStreamingPrefix(last.message)
              : String(last);
        throw new StreamingError(
          'INNER',
          `no timestamp from the coordinator within ${this.#o.timeoutMs ?? 30_000} ms: ${reason}`,
          { cause: last },
        );
      }
      await this.#backoff(delay, version, options.signal);
      delay = Math.min(delay * 2, 1000);
    }
  }

  /**
   * Stops following the election. Allocations in progress (their calls in flight are cancelled) and
   * later ones reject with ON_SHUTDOWN. Idempotent.
   */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#stop.abort();
      await this.#watch;
      this.#client?.client.close();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #follow(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        for await (const leader of observeLeader(this.#o.kv, this.#o.keys.election, { signal: this.#stop.signal })) {
          this.#leader = leader ? new TextDecoder().decode(leader.value) : undefined;
          this.#log.debug({ leader: this.#leader }, 'active coordinator');
          this.#leaderVersion++;
          for (const wake of this.#wakeOnLeaderChange) wake();
        }
      } catch (e) {
        if (this.#stop.signal.aborted) return;
        this.#log.warn({ err: e }, 'coordinator election watch failed; restarting');
        await this.#clock.sleep(200, { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }

  /**
   * Sleeps `delayMs`, or less: returns at once on a leader change after `version` (including one that
   * came before this call), on abort and on close(). Never throws; the caller checks why it woke.
   */
  async #backoff(delayMs: number, version: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#leaderVersion !== version) return;
    const wake = new AbortController();
    const wakeUp = (): void => wake.abort();
    this.#wakeOnLeaderChange.add(wakeUp);
    signal?.addEventListener('abort', wakeUp, { once: true });
    this.#stop.signal.addEventListener('abort', wakeUp, { once: true });
    try {
      await this.#clock.sleep(delayMs, { signal: wake.signal }).catch(() => undefined);
    } finally {
      this.#wakeOnLeaderChange.delete(wakeUp);
      signal?.removeEventListener('abort', wakeUp);
      this.#stop.signal.removeEventListener('abort', wakeUp);
    }
  }

  #call(address: string, count: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<bigint> {
    if (this.#client?.address !== address) {
      this.#client?.client.close();
      this.#client = { address, client: new TsoServiceClient(address, credentials.createInsecure()) };
    }
    const client = this.#client.client;
    return new Promise<bigint>((resolve, reject) => {
      const onAbort = (): void => call.cancel();
      const call = client.allocTimestamp(
        { count },
        new Metadata(),
        // grpc-js takes a wall-clock Date; `timeoutMs` was measured on the injected clock.
        { deadline: new Date(Date.now() + timeoutMs) },
        (e: ServiceError | null, r) => {
          signal?.removeEventListener('abort', onAbort);
          this.#stop.signal.removeEventListener('abort', onAbort);
          if (e === null) {
            if (r.count < count) reject(new StreamingError('INNER', `asked ${count} timestamps, got ${r.count}`));
            else resolve(r.first);
            return;
          }
          const info = readStreamingErrorMetadata(e.metadata);
          reject(
            info
              ? new StreamingError(StreamingError.codeOfNumber(info.code), stripStreamingPrefix(info.message))
              : new StreamingError('INNER', `TSO call to ${address} failed: ${GrpcStatus[e.code]} ${e.details}`),
          );
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      // close() cancels the call; the allocation then rejects with ON_SHUTDOWN.
      this.#stop.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function closedError(): StreamingError {
  return new StreamingError('ON_SHUTDOWN', 'the TSO client is closed');
}
