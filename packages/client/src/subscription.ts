import { abortReason, raceAbort } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { MessageType, StreamingError, toPChannel } from '@streamsvc/message';
import type { AnyImmutableMessage, MessageIdCodecs } from '@streamsvc/message';
import type { ConsumedMessage } from '@streamsvc/proto';

import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { ChannelPool } from './channel-pool.js';
import { decodeConsumed } from './consumed-message.js';
import { ConsumerStream } from './consumer-stream.js';
import { deliverRequest, describeFrom } from './deliver.js';
import type { ResumePoint, SubscribeFrom } from './deliver.js';
import type { Discovery } from './discovery.js';
import { toStreamingError } from './errors.js';
import { assignmentOf, movedOn, UNKNOWN_PCHANNEL, unknownPChannel } from './routing.js';
import type { PChannelAssignment } from './topology.js';
import type { TopologyWatcher } from './topology-watcher.js';

/** Options of `StreamingClient.subscribe`. */
export interface SubscribeOptions {
  /** The vchannel to read. */
  readonly vchannel: string;
  /** Where to start; default `'latest'`. */
  readonly from?: SubscribeFrom;
  /** Deliver only these types (time ticks and other system types are not filtered by the server). */
  readonly messageTypes?: readonly MessageType[];
  /** Also yield TimeTick messages (for consumers that track safe time); default false. */
  readonly includeTimeTicks?: boolean;
  /** Ends the subscription: a pending or later `next()` rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

/** What a subscription needs from the client. */
export interface SubscriptionDeps {
  readonly pool: ChannelPool;
  readonly watcher: TopologyWatcher;
  readonly discovery: Discovery;
  readonly idCodecs: MessageIdCodecs;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly createTimeoutMs: number;
  /** Called once when the subscription closes (the client stops tracking it). */
  readonly onClosed: (subscription: Subscription) => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A resumable, in-order subscription to one vchannel, iterated with `for await`. Messages come in
 * strict time-tick order, committed transactions as one assembled `Txn` message. When the stream fails
 * or the pchannel moves, the subscription reconnects to the current owner from the last delivered
 * message's last-confirmed id, keeping only messages with a larger time tick: no gap, no duplicate.
 *
 * It is pull-based: nothing is read from the node faster than `next()` is called, so a consumer that
 * stops iterating holds at most one response batch plus what HTTP/2 flow control lets in flight.
 * Only a non-retriable error (thrown from `next()`), `close()`, the abort signal or closing the client
 * ends it.
 */
export class Subscription implements AsyncIterableIterator<AnyImmutableMessage>, AsyncDisposable {
  /** The vchannel read. */
  readonly vchannel: string;
  /** Its pchannel. */
  readonly pchannel: string;
  readonly #d: SubscriptionDeps;
  readonly #log: Logger;
  readonly #from: SubscribeFrom;
  readonly #types: readonly MessageType[] | undefined;
  readonly #includeTimeTicks: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #stop = new AbortController();
  readonly #backoff: Backoff;
  #abortReason: unknown;
  #failure: StreamingError | undefined;
  #stream: ConsumerStream | undefined;
  #attempted: PChannelAssignment | undefined;
  #batch: readonly ConsumedMessage[] = [];
  #index = 0;
  #resume: ResumePoint | undefined;
  #chain: Promise<unknown>;
  #closing: Promise<void> | undefined;

  /**
   * Internal: use `StreamingClient.subscribe`.
   * @throws StreamingError INVALID_ARGUMENT for a malformed vchannel name.
   */
  constructor(deps: SubscriptionDeps, options: SubscribeOptions) {
    try {
      this.pchannel = toPChannel(options.vchannel);
    } catch (e) {
      throw toStreamingError(e, 'subscribe');
    }
    this.vchannel = options.vchannel;
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'subscription', vchannel: options.vchannel });
    this.#from = options.from ?? 'latest';
    this.#types = options.messageTypes;
    this.#includeTimeTicks = options.includeTimeTicks ?? false;
    this.#signal = options.signal;
    this.#backoff = new Backoff(deps.backoff);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal?.aborted) this.#onAbort();
    // Connect right away, so that 'latest' means "from when subscribe() was called", not "from the first next()".
    this.#chain = this.#connect().catch(() => {});
  }

  /** The resume point: the position after the last message delivered (or time tick seen). */
  get position(): ResumePoint | undefined {
    return this.#resume;
  }

  /**
   * The next message. Resolves `done` after `close()` (or the client's close).
   * @throws StreamingError a non-retriable error (e.g. INVALID_ARGUMENT for an unknown pchannel or a bad
   *   start id, UNKNOWN for undecodable bytes); the abort reason once the signal aborted.
   */
  next(): Promise<IteratorResult<AnyImmutableMessage>> {
    const result = this.#chain.then(() => this.#next());
    this.#chain = result.catch(() => {});
    return result;
  }

  /** Ends the subscription (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<AnyImmutableMessage>> {
    await this.close();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Closes the stream; pending and later `next()` calls resolve `done`. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#stop.abort();
      this.#stream?.close();
      this.#stream = undefined;
      this.#batch = [];
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#d.onClosed(this);
      this.#closing = Promise.resolve();
    }
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  readonly #onAbort = (): void => {
    this.#abortReason = abortReason(this.#signal!);
    void this.close();
  };

  async #next(): Promise<IteratorResult<AnyImmutableMessage>> {
    try {
      for (;;) {
        if (this.#abortReason !== undefined) throw this.#abortReason;
        if (this.#failure !== undefined) throw this.#failure;
        if (this.#stop.signal.aborted) return DONE;
        while (this.#index < this.#batch.length) {
          const message = decodeConsumed(this.#batch[this.#index++]!, this.#d.idCodecs);
          this.#advance(message);
          if (message.type === MessageType.TimeTick && !this.#includeTimeTicks) continue;
          return { done: false, value: message };
        }
        try {
          if (this.#stream === undefined) {
            await this.#open();
          } else {
            this.#batch = await this.#stream.next();
            this.#index = 0;
            this.#backoff.reset();
          }
        } catch (e) {
          await this.#recover(e);
        }
      }
    } catch (e) {
      if (this.#abortReason !== undefined) throw this.#abortReason;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#stop.signal.aborted) return DONE;
      this.#failure = toStreamingError(e, `subscription to ${this.vchannel}`);
      void this.close();
      throw this.#failure;
    }
  }

  async #connect(): Promise<void> {
    while (this.#stream === undefined && !this.#stop.signal.aborted && this.#failure === undefined) {
      try {
        await this.#open();
      } catch (e) {
        await this.#recover(e);
      }
    }
  }

  async #open(): Promise<void> {
    const found = await this.#d.watcher.wait((t) => assignmentOf(t, this.pchannel), { signal: this.#stop.signal });
    if (found === UNKNOWN_PCHANNEL) throw unknownPChannel(this.pchannel, this.#d.watcher.current);
    const assignment = found!;
    this.#attempted = assignment;
    this.#log.debug(
      { node: assignment.node.address, term: String(assignment.term), from: describeFrom(this.#from, this.#resume) },
      'opening consumer stream',
    );
    const opening = ConsumerStream.open({
      client: this.#d.pool.handler(assignment.node.address),
      assignment,
      vchannel: this.vchannel,
      deliver: deliverRequest(this.#from, this.#resume, this.#types),
      // Always asked for: time ticks move the resume point forward on a quiet vchannel (so a reconnect
      // neither rescans nor, for 'latest', skips); they are dropped here unless the caller wants them.
      includeTimeTicks: true,
      idCodecs: this.#d.idCodecs,
      logger: this.#log,
      createTimeoutMs: this.#d.createTimeoutMs,
    });
    opening.then(
      (s) => {
        if (this.#stop.signal.aborted) s.close();
      },
      () => {},
    );
    const stream = await raceAbort(opening, this.#stop.signal);
    this.#stream = stream;
    this.#batch = [];
    this.#index = 0;
  }

  /** After a failed open or read: rethrows what is fatal, else waits before the next attempt. */
  async #recover(e: unknown): Promise<void> {
    if (this.#stop.signal.aborted) throw e;
    const error = toStreamingError(e, `subscription to ${this.vchannel}`);
    const failed = this.#stream?.assignment ?? this.#attempted;
    this.#stream?.close();
    this.#stream = undefined;
    this.#batch = [];
    this.#index = 0;
    if (!error.retriable) {
      this.#failure = error;
      this.#log.warn({ err: error }, 'subscription failed');
      void this.close();
      throw error;
    }
    if (failed !== undefined && StreamingError.isWrongNode(error)) {
      this.#d.discovery.reportError(failed.pchannel, failed.term, error);
    }
    const delayMs = this.#backoff.next();
    this.#log.debug({ code: error.code, delayMs, err: error }, 'consumer stream failed; resuming');
    await this.#d.watcher.wait((t) => (failed !== undefined && movedOn(t, failed) ? true : undefined), {
      signal: this.#stop.signal,
      timeoutMs: delayMs,
    });
  }

  /** Moves the resume point to `m` (time ticks included: they are positions too). */
  #advance(m: AnyImmutableMessage): void {
    if (this.#resume === undefined || m.timeTick >= this.#resume.timeTick) {
      this.#resume = { lastConfirmed: m.lastConfirmed, timeTick: m.timeTick };
    }
  }
}
