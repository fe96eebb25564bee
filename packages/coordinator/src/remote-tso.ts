import { credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CloseOnce, deferred, noopLogger, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Deferred, Logger } from '@streamsvc/common';
import { StreamingError, stripStreamingPrefix } from '@streamsvc/message';
import { observeLeader } from '@streamsvc/metastore';
import type { MetaKv } from '@streamsvc/metastore';
import { readStreamingErrorMetadata, TsoServiceClient } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import type { ClusterKeys } from './node-sessions.js';

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
  /** Resolved (and replaced) whenever the active coordinator changes: every waiting allocation retries. */
  #leaderChanged: Deferred<void> = deferred();
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
      if (this.#stop.signal.aborted) throw new StreamingError('ON_SHUTDOWN', 'the TSO client is closed');
      const address = this.#leader;
      // Taken with the address: a leader change during the call below must wake the wait after it.
      const leaderChanged = this.#leaderChanged.promise;
      if (address !== undefined) {
        try {
          return await this.#call(address, count, options.signal);
        } catch (e) {
          if (options.signal?.aborted) throw options.signal.reason;
          last = e;
        }
      }
      if (this.#clock.nowMs() + delay > deadline) {
        throw new StreamingError(
          'INNER',
          `no timestamp from the coordinator within ${this.#o.timeoutMs ?? 30_000} ms: ${
            address === undefined ? 'no active coordinator' : String(last)
          }`,
          { cause: last },
        );
      }
      // Wake on a new leader or after the backoff; the sleep is cancelled when the leader wins the race.
      const backoff = new AbortController();
      const cancel = (): void => backoff.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', cancel, { once: true });
      try {
        await Promise.race([
          leaderChanged,
          this.#clock.sleep(delay, { signal: backoff.signal }).catch(() => undefined),
        ]);
      } finally {
        backoff.abort();
        options.signal?.removeEventListener('abort', cancel);
      }
      delay = Math.min(delay * 2, 1000);
    }
  }

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
          const changed = this.#leaderChanged;
          this.#leaderChanged = deferred();
          changed.resolve();
        }
      } catch (e) {
        if (this.#stop.signal.aborted) return;
        this.#log.warn({ err: e }, 'coordinator election watch failed; restarting');
        await this.#clock.sleep(200, { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }

  #call(address: string, count: number, signal: AbortSignal | undefined): Promise<bigint> {
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
        { deadline: new Date(Date.now() + 5_000) },
        (e: ServiceError | null, r) => {
          signal?.removeEventListener('abort', onAbort);
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
    });
  }
}
