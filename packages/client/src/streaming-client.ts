import { CloseOnce } from '@streamsvc/common';
import type { CallOptions, Logger } from '@streamsvc/common';
import { isTxnBodyMessageType, StreamingError, toPChannel } from '@streamsvc/message';
import type { BroadcastMutableMessage, MutableMessage } from '@streamsvc/message';

import type { AppendResult } from './append-result.js';
import { ChannelPool } from './channel-pool.js';
import { resolveClientOptions } from './client-options.js';
import type { ResolvedClientOptions, StreamingClientOptions } from './client-options.js';
import { CoordinatorCalls } from './coordinator-calls.js';
import type { BroadcastResult } from './coordinator-calls.js';
import { Discovery } from './discovery.js';
import { EndpointRotation } from './endpoint-rotation.js';
import { withDefaultTimeout } from './default-timeout.js';
import type { DefaultTimeout } from './default-timeout.js';
import { clientClosedError, toStreamingError } from './errors.js';
import { OutgoingMessage } from './outgoing-message.js';
import { Producer } from './producer.js';
import { Subscription } from './subscription.js';
import type { SubscribeOptions } from './subscription.js';
import { isTopologyReady } from './topology.js';
import type { TopologySnapshot } from './topology.js';
import { TopologyWatcher } from './topology-watcher.js';
import { Txn } from './txn.js';
import type { TxnOptions } from './txn.js';

/** Options of {@link StreamingClient.appendMany}. */
export interface AppendManyOptions extends CallOptions {
  /** Keepalive of the wrapping transaction; 0 or absent: the server's default. */
  readonly keepaliveMs?: number;
}

/** The outcome of {@link StreamingClient.appendMany}. */
export interface AppendManyResult {
  /** The wrapping transaction. */
  readonly txnId: bigint;
  /** Where each message landed, in the order given (readers see them at the commit's time tick). */
  readonly results: readonly AppendResult[];
  /** Where the CommitTxn landed: the point at which all messages became visible. */
  readonly commit: AppendResult;
}

/**
 * @internal What unit tests replace: the channel pool, the one place that constructs gRPC clients, with
 * a fake whose clients never open a socket.
 */
export interface StreamingClientParts {
  readonly pool?: ChannelPool;
}

/**
 * The streaming client: learns the topology from the discovery stream of the active coordinator (or
 * standalone server), routes every append to the node that owns its vchannel's pchannel, retries across
 * migrations and failures, and reads vchannels with resumable, in-order subscriptions.
 *
 * ```ts
 * await using client = await StreamingClient.connect({ endpoint: '127.0.0.1:19540' });
 * await client.waitReady({ signal: AbortSignal.timeout(10_000) });
 * const { id } = await client.append(MessageBuilder.data(bytes).vchannel(v).build());
 * for await (const m of client.subscribe({ vchannel: v, from: 'earliest' })) console.log(m.id.toString());
 * ```
 */
export class StreamingClient implements AsyncDisposable {
  readonly #o: ResolvedClientOptions;
  readonly #log: Logger;
  readonly #pool: ChannelPool;
  readonly #watcher: TopologyWatcher;
  readonly #discovery: Discovery;
  readonly #producer: Producer;
  readonly #calls: CoordinatorCalls;
  readonly #subscriptions = new Set<Subscription>();
  readonly #closeOnce = new CloseOnce();

  /** Wires the parts; no I/O. Use {@link StreamingClient.connect}. */
  private constructor(options: ResolvedClientOptions, parts: StreamingClientParts) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'streaming-client' });
    this.#pool = parts.pool ?? new ChannelPool(options.credentials, options.channelOptions);
    this.#watcher = new TopologyWatcher(options.clock);
    const endpoints = new EndpointRotation(options.endpoints);
    this.#discovery = new Discovery({
      endpoints,
      pool: this.#pool,
      watcher: this.#watcher,
      clock: options.clock,
      logger: options.logger,
      backoff: options.discoveryBackoff,
    });
    this.#producer = new Producer({
      pool: this.#pool,
      watcher: this.#watcher,
      discovery: this.#discovery,
      idCodecs: options.idCodecs,
      logger: options.logger,
      backoff: options.retryBackoff,
      maxBatchBytes: options.maxBatchBytes,
      maxBatchMessages: options.maxBatchMessages,
      createTimeoutMs: options.createTimeoutMs,
      defaultTimeoutMs: options.defaultTimeoutMs,
    });
    this.#calls = new CoordinatorCalls({
      endpoints,
      pool: this.#pool,
      watcher: this.#watcher,
      logger: options.logger,
      backoff: options.retryBackoff,
      callTimeoutMs: options.callTimeoutMs,
      isClosed: () => this.#closeOnce.started,
    });
  }

  /**
   * Creates a client and opens its discovery stream to `endpoint` (the first of several, moving on to
   * the next while one is a standby or unreachable). Resolves at once: unreachable endpoints are retried
   * in the background (see {@link waitReady}).
   * `parts` is for unit tests (see {@link StreamingClientParts}).
   * @throws StreamingError INVALID_ARGUMENT for bad options (naming a malformed endpoint).
   */
  static async connect(options: StreamingClientOptions, parts: StreamingClientParts = {}): Promise<StreamingClient> {
    const resolved = resolveClientOptions(options);
    const client = new StreamingClient(resolved, parts);
    client.#discovery.start();
    client.#log.debug({ endpoints: resolved.endpoints }, 'connecting');
    return Promise.resolve(client);
  }

  /** The newest topology snapshot (version {-1, -1} and nothing assigned before the first arrives). */
  topology(): TopologySnapshot {
    return this.#watcher.current;
  }

  /**
   * Resolves with the topology once a snapshot arrived in which every pchannel has an owner.
   * @throws the abort reason on abort; StreamingError ON_SHUTDOWN when the client closes first; without
   *   a signal, INNER (retriable) once `defaultTimeoutMs` passed.
   */
  async waitReady(options: CallOptions = {}): Promise<TopologySnapshot> {
    const ready = await withDefaultTimeout(options.signal, this.#timeout('waitReady', 'INNER'), (signal) =>
      this.#watcher.wait((t) => (isTopologyReady(t) ? t : undefined), { signal }),
    );
    return ready!;
  }

  /**
   * Appends `message` to its vchannel. Retriable failures (the pchannel moved or is moving, the node is
   * down or shutting down, transport errors) are retried after a newer topology or a backoff pause, so a
   * migration costs only latency. A retried append is **at-least-once**: if the first attempt was
   * written but its answer lost, the message is stored twice.
   * @throws StreamingError a non-retriable error with the server's code and text (e.g. VCHANNEL_DROPPED,
   *   INVALID_ARGUMENT, TRANSACTION_EXPIRED), INVALID_ARGUMENT for a message without a vchannel or on a
   *   pchannel the cluster does not have, ON_SHUTDOWN when the client is closed, OUTCOME_UNKNOWN when it
   *   closed mid-flight. On abort: the abort reason, and the outcome is unknown (the message may have
   *   been written). Without a signal, OUTCOME_UNKNOWN once `defaultTimeoutMs` passed while it waited for
   *   an owner or retried (the same: the message may have been written); an append sent on an open stream
   *   waits for that node's answer or the stream's failure.
   */
  append(message: MutableMessage, options: CallOptions = {}): Promise<AppendResult> {
    let pchannel: string;
    try {
      if (this.#closeOnce.started) throw clientClosedError();
      const vchannel = message.vchannel;
      if (vchannel === undefined) {
        throw new StreamingError('INVALID_ARGUMENT', `${message.typeName} message has no vchannel to append to`);
      }
      pchannel = toPChannel(vchannel);
    } catch (e) {
      return Promise.reject(toStreamingError(e, 'append'));
    }
    // Without a signal the producer bounds the append by defaultTimeoutMs itself, once it has to wait.
    return this.#producer.append(pchannel, new OutgoingMessage(message), options.signal);
  }

  /** Like {@link append}, but a failure after the message was sent is OUTCOME_UNKNOWN, not a retry. */
  #appendOnce(message: MutableMessage, signal: AbortSignal | undefined): Promise<AppendResult> {
    const vchannel = message.vchannel;
    if (vchannel === undefined) {
      return Promise.reject(
        new StreamingError('INVALID_ARGUMENT', `${message.typeName} message has no vchannel to append to`),
      );
    }
    let pchannel: string;
    try {
      pchannel = toPChannel(vchannel);
    } catch (e) {
      return Promise.reject(toStreamingError(e, 'append'));
    }
    return this.#producer.append(pchannel, new OutgoingMessage(message), signal, { retrySent: false });
  }

  /**
   * Appends several messages to one vchannel atomically: BeginTxn, the messages in order (one after the
   * other, so the transaction keeps their order), CommitTxn. Readers see all of them at the commit's
   * time tick, or none. On failure the transaction is rolled back (best effort; the server also expires
   * it after its keepalive).
   * @throws StreamingError INVALID_ARGUMENT for an empty list, a message on another vchannel or of a type
   *   that cannot be in a transaction (Insert, Delete and Data can); else like {@link append} and
   *   {@link Txn.commit}. On abort: the abort reason (nothing is visible unless the commit was written).
   *   Without a signal, the whole call (begin, bodies, commit) is bounded by `defaultTimeoutMs`, after
   *   which it rejects with OUTCOME_UNKNOWN (the same: visible only if the commit was written).
   */
  async appendMany(
    vchannel: string,
    messages: readonly MutableMessage[],
    options: AppendManyOptions = {},
  ): Promise<AppendManyResult> {
    if (messages.length === 0) throw new StreamingError('INVALID_ARGUMENT', 'appendMany needs at least one message');
    messages.forEach((m, i) => {
      if (m.vchannel !== vchannel) {
        throw new StreamingError(
          'INVALID_ARGUMENT',
          `message ${i} is on ${m.vchannel ?? '(no vchannel)'}, not ${vchannel}`,
        );
      }
      if (!isTxnBodyMessageType(m.type)) {
        throw new StreamingError(
          'INVALID_ARGUMENT',
          `message ${i} is ${m.typeName}, which cannot be part of a transaction`,
        );
      }
    });
    const timeout = this.#timeout(`appendMany to ${vchannel}`, 'OUTCOME_UNKNOWN');
    return withDefaultTimeout(options.signal, timeout, (signal) =>
      this.#appendMany(vchannel, messages, options.keepaliveMs ?? 0, signal),
    );
  }

  /** {@link appendMany} after its checks, under one signal for every step (so no step adds a default). */
  async #appendMany(
    vchannel: string,
    messages: readonly MutableMessage[],
    keepaliveMs: number,
    signal: AbortSignal | undefined,
  ): Promise<AppendManyResult> {
    const txn = await this.txn({ vchannel, keepaliveMs, signal });
    try {
      const results: AppendResult[] = [];
      for (const m of messages) results.push(await txn.append(m, { signal }));
      const commit = await txn.commit({ signal });
      return { txnId: txn.txnId, results, commit };
    } catch (e) {
      if (txn.state === 'open') {
        void txn.rollback({ signal: AbortSignal.timeout(this.#o.createTimeoutMs) }).catch((err: unknown) => {
          this.#log.debug({ err: toStreamingError(err, 'rollback') }, 'rollback of a failed appendMany failed');
        });
      }
      throw e;
    }
  }

  /**
   * Opens a transaction on `vchannel` (appends BeginTxn; the server assigns the txn id). Each append of
   * the txn — BeginTxn, a body, CommitTxn, RollbackTxn — that is given no signal is bounded by
   * `defaultTimeoutMs` like {@link append}.
   * @throws StreamingError like {@link append}; the abort reason on abort.
   */
  async txn(options: TxnOptions): Promise<Txn> {
    // Transaction parts are never resent once sent: a duplicate body would change what the txn holds,
    // while a txn that fails as a whole can simply be retried.
    return Txn.begin(options, (message, signal) => this.#appendOnce(message, signal), this.#o.logger);
  }

  /**
   * Subscribes to a vchannel. Iterate the result with `for await`; see {@link Subscription} for the
   * delivery guarantees (strict time-tick order, no gap and no duplicate across reconnects).
   * @throws StreamingError INVALID_ARGUMENT for a malformed vchannel; ON_SHUTDOWN when the client is closed.
   */
  subscribe(options: SubscribeOptions): Subscription {
    if (this.#closeOnce.started) throw clientClosedError();
    const subscription = new Subscription(
      {
        pool: this.#pool,
        watcher: this.#watcher,
        discovery: this.#discovery,
        idCodecs: this.#o.idCodecs,
        logger: this.#o.logger,
        backoff: this.#o.retryBackoff,
        createTimeoutMs: this.#o.createTimeoutMs,
        onClosed: (s) => this.#subscriptions.delete(s),
      },
      options,
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Appends one message atomically to every vchannel its broadcast header names, through the
   * coordinator's broadcaster. Retried like {@link append}, but every attempt of one call carries the
   * same request id: when an attempt's deadline passed while the coordinator went on and applied it, the
   * retry gets that attempt's outcome instead of broadcasting again (as long as the coordinator still
   * remembers it: see the coordinator README, "Retries"). OUTCOME_UNKNOWN — the coordinator stopped
   * mid-broadcast — is retried too: the next active coordinator resumes the persisted task and answers
   * the retry with its outcome.
   * @throws StreamingError the coordinator's error (e.g. RESOURCE_ACQUIRED is retried, INVALID_ARGUMENT
   *   is not); the abort reason on abort (outcome unknown); without a signal, OUTCOME_UNKNOWN once
   *   `defaultTimeoutMs` passed (the same: it may have been applied).
   */
  broadcast(message: BroadcastMutableMessage, options: CallOptions = {}): Promise<BroadcastResult> {
    if (this.#closeOnce.started) return Promise.reject(clientClosedError());
    return withDefaultTimeout(options.signal, this.#timeout('broadcast', 'OUTCOME_UNKNOWN'), (signal) =>
      this.#calls.broadcast(message, signal),
    );
  }

  /**
   * A fresh timestamp from the cluster's TSO: every message appended after this resolves gets a larger
   * time tick.
   * @throws StreamingError a non-retriable TSO error; the abort reason on abort; without a signal,
   *   INNER (retriable) once `defaultTimeoutMs` passed.
   */
  allocateTimestamp(options: CallOptions = {}): Promise<bigint> {
    if (this.#closeOnce.started) return Promise.reject(clientClosedError());
    return withDefaultTimeout(options.signal, this.#timeout('allocateTimestamp', 'INNER'), (signal) =>
      this.#calls.allocateTimestamp(signal),
    );
  }

  /**
   * Closes every subscription (their iterators finish), fails pending appends (ON_SHUTDOWN, or
   * OUTCOME_UNKNOWN for those already sent), closes the discovery stream and every gRPC channel.
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    return this.#closeOnce.run(async () => {
      await Promise.all([...this.#subscriptions].map((s) => s.close()));
      this.#producer.close();
      this.#calls.close();
      this.#watcher.close(clientClosedError());
      await this.#discovery.close();
      this.#pool.close();
      this.#log.debug('closed');
    });
  }

  /** How a call of `what` without a signal fails once `defaultTimeoutMs` passed. */
  #timeout(what: string, code: DefaultTimeout['code']): DefaultTimeout {
    return { timeoutMs: this.#o.defaultTimeoutMs, what, code };
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
