import { Metadata } from '@grpc/grpc-js';
import type { ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { abortReason, throwIfAborted } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { encodeMessage, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage } from '@streamsvc/message';
import type { AllocTimestampResponse, BroadcastResponse } from '@streamsvc/proto';

import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { ChannelPool } from './channel-pool.js';
import { clientClosedError, isAbortReason, toStreamingError } from './errors.js';
import type { TopologyWatcher } from './topology-watcher.js';

/** Where one vchannel's copy of a broadcast landed. */
export interface BroadcastAppendResult {
  /**
   * The copy's message id, in its string form: the broadcast response does not name the WAL backend,
   * so parse it with `idCodecs.parse(walName, messageId)` when you know it.
   */
  readonly messageId: string;
  readonly timeTick: bigint;
  /** The copy's last-confirmed id, in its string form. */
  readonly lastConfirmed: string;
}

/** The outcome of a broadcast: its id and, per vchannel, where the copy landed. */
export interface BroadcastResult {
  readonly broadcastId: bigint;
  readonly results: ReadonlyMap<string, BroadcastAppendResult>;
}

/** What the coordinator calls need. */
export interface CoordinatorCallsOptions {
  readonly endpoint: string;
  readonly pool: ChannelPool;
  readonly watcher: TopologyWatcher;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly callTimeoutMs: number;
  readonly isClosed: () => boolean;
}

type Invoke<R> = (deadline: Date, callback: (error: ServiceError | null, response: R) => void) => ClientUnaryCall;

/**
 * The unary calls to the coordinator (or standalone server): Broadcast and AllocTimestamp, retried on
 * retriable failures like appends. In-flight calls are cancelled when the client closes.
 */
export class CoordinatorCalls {
  readonly #o: CoordinatorCallsOptions;
  readonly #active = new Set<ClientUnaryCall>();

  constructor(options: CoordinatorCallsOptions) {
    this.#o = options;
  }

  /** See `StreamingClient.broadcast`. */
  async broadcast(message: BroadcastMutableMessage, signal: AbortSignal | undefined): Promise<BroadcastResult> {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(encodeMessage(message));
    } catch (e) {
      throw toStreamingError(e, 'broadcast');
    }
    const client = this.#o.pool.broadcast(this.#o.endpoint);
    const response = await this.#retrying<BroadcastResponse>('broadcast', signal, (deadline, cb) =>
      client.broadcast({ message: bytes }, new Metadata(), { deadline }, cb),
    );
    const results = new Map<string, BroadcastAppendResult>();
    for (const [vchannel, r] of response.results) {
      results.set(vchannel, { messageId: r.messageId, timeTick: r.timeTick, lastConfirmed: r.lastConfirmed });
    }
    return { broadcastId: response.broadcastId, results };
  }

  /** See `StreamingClient.allocateTimestamp`. */
  async allocateTimestamp(signal: AbortSignal | undefined): Promise<bigint> {
    const client = this.#o.pool.tso(this.#o.endpoint);
    const response = await this.#retrying<AllocTimestampResponse>('allocate timestamp', signal, (deadline, cb) =>
      client.allocTimestamp({ count: 1 }, new Metadata(), { deadline }, cb),
    );
    if (response.count < 1) {
      throw new StreamingError('UNKNOWN', 'the TSO answered with no timestamp', { retriable: false });
    }
    return response.first;
  }

  /** Cancels every call in flight (they fail with the client-closed error). */
  close(): void {
    for (const call of this.#active) call.cancel();
    this.#active.clear();
  }

  async #retrying<R>(what: string, signal: AbortSignal | undefined, invoke: Invoke<R>): Promise<R> {
    const backoff = new Backoff(this.#o.backoff);
    for (let attempt = 1; ; attempt++) {
      if (this.#o.isClosed()) throw clientClosedError();
      throwIfAborted(signal);
      let error: StreamingError;
      try {
        return await this.#once(invoke, signal);
      } catch (e) {
        if (isAbortReason(e, signal)) throw e;
        if (this.#o.isClosed()) throw clientClosedError();
        error = toStreamingError(e, what);
      }
      if (!error.retriable) throw error;
      const delayMs = backoff.next();
      this.#o.logger.debug({ attempt, delayMs, code: error.code, err: error }, `${what} failed; retrying`);
      await this.#o.watcher.sleep(delayMs, signal);
    }
  }

  #once<R>(invoke: Invoke<R>, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        call.cancel();
        reject(abortReason(signal!));
      };
      const call = invoke(new Date(Date.now() + this.#o.callTimeoutMs), (error, response) => {
        this.#active.delete(call);
        signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve(response);
      });
      this.#active.add(call);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
