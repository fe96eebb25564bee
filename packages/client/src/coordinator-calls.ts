import { randomUUID } from 'node:crypto';

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
import type { EndpointRotation } from './endpoint-rotation.js';
import { clientClosedError, isAbortReason, isEndpointFailure, toStreamingError } from './errors.js';
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
  /** The coordinator endpoints, shared with discovery (so calls start where discovery found the active one). */
  readonly endpoints: EndpointRotation;
  readonly pool: ChannelPool;
  readonly watcher: TopologyWatcher;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly callTimeoutMs: number;
  readonly isClosed: () => boolean;
}

type Invoke<R> = (
  endpoint: string,
  deadline: Date,
  callback: (error: ServiceError | null, response: R) => void,
) => ClientUnaryCall;

/**
 * The unary calls to the coordinator (or standalone server): Broadcast and AllocTimestamp, retried on
 * retriable failures like appends. A standby's COORDINATOR_NOT_ACTIVE or an unreachable endpoint is
 * retried at once on the next endpoint; the backoff pause comes only after every endpoint failed in a
 * row, or after any other retriable failure. In-flight calls are cancelled when the client closes.
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
    // One id for every attempt of this call: an attempt whose deadline passed here may still be applied
    // by the coordinator, which answers the retry with that attempt's outcome instead of appending again.
    const requestId = randomUUID();
    // OUTCOME_UNKNOWN too: a coordinator that stopped mid-broadcast left the task persisted with this id,
    // and the next active one resumes it and answers the retry with its outcome.
    const response = await this.#retrying<BroadcastResponse>(
      'broadcast',
      signal,
      (endpoint, deadline, cb) =>
        this.#o.pool.broadcast(endpoint).broadcast({ message: bytes, requestId }, new Metadata(), { deadline }, cb),
      (error) => error.code === 'OUTCOME_UNKNOWN',
    );
    const results = new Map<string, BroadcastAppendResult>();
    for (const [vchannel, r] of response.results) {
      results.set(vchannel, { messageId: r.messageId, timeTick: r.timeTick, lastConfirmed: r.lastConfirmed });
    }
    return { broadcastId: response.broadcastId, results };
  }

  /** See `StreamingClient.allocateTimestamp`. */
  async allocateTimestamp(signal: AbortSignal | undefined): Promise<bigint> {
    const response = await this.#retrying<AllocTimestampResponse>(
      'allocate timestamp',
      signal,
      (endpoint, deadline, cb) =>
        this.#o.pool.tso(endpoint).allocTimestamp({ count: 1 }, new Metadata(), { deadline }, cb),
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

  /** Runs `invoke` until it answers; retries retriable errors, and those `alsoRetry` accepts. */
  async #retrying<R>(
    what: string,
    signal: AbortSignal | undefined,
    invoke: Invoke<R>,
    alsoRetry?: (error: StreamingError) => boolean,
  ): Promise<R> {
    const backoff = new Backoff(this.#o.backoff);
    const round = this.#o.endpoints.round();
    for (let attempt = 1; ; attempt++) {
      if (this.#o.isClosed()) throw clientClosedError();
      throwIfAborted(signal);
      const endpoint = round.current;
      let error: StreamingError;
      try {
        const response = await this.#once(endpoint, invoke, signal);
        round.succeeded(endpoint);
        return response;
      } catch (e) {
        if (isAbortReason(e, signal)) throw e;
        if (this.#o.isClosed()) throw clientClosedError();
        error = toStreamingError(e, what);
      }
      if (!error.retriable && alsoRetry?.(error) !== true) throw error;
      if (isEndpointFailure(error)) {
        if (!round.failed(endpoint)) {
          this.#o.logger.debug(
            { attempt, endpoint, next: round.current, code: error.code, err: error },
            `${what} failed on this endpoint; trying the next one`,
          );
          continue;
        }
      } else {
        round.restart();
      }
      const delayMs = backoff.next();
      this.#o.logger.debug({ attempt, endpoint, delayMs, code: error.code, err: error }, `${what} failed; retrying`);
      await this.#o.watcher.sleep(delayMs, signal);
    }
  }

  #once<R>(endpoint: string, invoke: Invoke<R>, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        call.cancel();
        reject(abortReason(signal!));
      };
      const call = invoke(endpoint, new Date(Date.now() + this.#o.callTimeoutMs), (error, response) => {
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
