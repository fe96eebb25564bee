import { abortReason, CloseOnce, deferred, isRetriable, noopLogger, raceAbort, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { BroadcastMutableMessage, StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { MetaKv } from '@streamsvc/metastore';
import type { AppendResult } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import { broadcastRequestKey, BroadcastRequests } from './broadcast-requests.js';
import type {
  BroadcastDedupOptions,
  BroadcastOutcome,
  BroadcastRequestKey,
  StartedBroadcast,
} from './broadcast-requests.js';
import { BroadcastTaskStore } from './broadcast-task-store.js';
import type { BroadcastTask, LeadershipGuard } from './broadcast-task-store.js';
import { KeptBroadcasts } from './kept-broadcasts.js';
import { linkSignals } from './link-signals.js';
import { ResourceLocks } from './resource-locks.js';
import type { ResourceLockHandle } from './resource-locks.js';

export type { BroadcastOutcome } from './broadcast-requests.js';

/**
 * Appends one message to the WAL owning its vchannel (locally in standalone, through the streaming
 * client in a cluster). Abort: the outcome is unknown.
 */
export type VChannelAppender = (message: MutableMessage, options: { signal?: AbortSignal }) => Promise<AppendResult>;

/** Options of {@link Broadcaster.start}. */
export interface BroadcasterOptions {
  readonly kv: MetaKv;
  /** The coordinator's key prefix (ends with `/`); tasks live under `<prefix>broadcast/tasks/`. */
  readonly prefix: string;
  /** The active coordinator's leadership check, compared by every MetaKV write. */
  readonly guard: LeadershipGuard;
  readonly append: VChannelAppender;
  /** Broadcast ids come from the global TSO, so they only grow, across coordinators too. */
  readonly tso: TsoSource;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How long a broadcast waits for its resource keys before RESOURCE_ACQUIRED. Default 30 s. */
  readonly lockTimeoutMs?: number;
  /** Backoff between retries of retriable append and MetaKV failures: doubles from 50 ms up to 2 s. */
  readonly retryBackoff?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** How long finished broadcasts answer retries of their request (default 10 min, 10,000 broadcasts). */
  readonly dedup?: BroadcastDedupOptions;
}

/** Options of {@link Broadcaster.broadcast}. */
export interface BroadcastCallOptions extends CallOptions {
  /**
   * The client's id of this broadcast, the same for each of its retries; `''` or absent: a new
   * broadcast every time. See {@link BroadcastRequests} for what a repeated id gets.
   */
  readonly requestId?: string;
}

/** Why a broadcaster stopped; see {@link Broadcaster.stopped}. */
export interface BroadcasterStopped {
  /**
   * `'closed'` by `close()`; `'not-active'` when a guarded write failed its compare (leadership lost);
   * `'failed'` when MetaKV failed with an error that retrying cannot fix (closed, corrupt).
   */
  readonly reason: 'closed' | 'not-active' | 'failed';
  readonly error: StreamingError;
}

/** One vchannel's failure; `fromAppend` tells an append error (the broadcast failed) from a persistence one. */
interface Failure {
  readonly error: unknown;
  readonly fromAppend: boolean;
}

/**
 * The active coordinator's broadcaster (Milvus 2.6 `streamingcoord/server/broadcaster`): appends one
 * message — DDL such as CreateCollection — to every vchannel its broadcast header names, as one
 * operation that survives coordinator crashes.
 *
 * Per broadcast: acquire the header's resource keys (conflicting broadcasts run one after the other) →
 * allocate the broadcast id from the TSO → persist the task in MetaKV → append every vchannel's copy
 * concurrently, retrying retriable errors with backoff, recording each result as it lands → delete the
 * task (or mark it finished: see below) and release the keys. Every MetaKV write is guarded by the
 * leadership check: once it fails the broadcaster stops (`stopped` settles with COORDINATOR_NOT_ACTIVE)
 * and writes nothing more.
 *
 * **Delivery is at least once per vchannel.** On start the broadcaster loads every persisted task,
 * re-acquires its keys (before any new broadcast can take them) and appends the copies not yet
 * recorded. A copy appended just before a crash but not yet recorded is appended again, with the same
 * broadcast id in its header: readers drop duplicates by broadcast id.
 *
 * **A retried request is broadcast once.** A request carrying the id of a broadcast in progress (here,
 * or resumed from its persisted task) waits for that broadcast; one carrying the id of a broadcast
 * finished within the dedup window gets its outcome without appending anything
 * ({@link BroadcastRequests}). For that to hold across a takeover, the task of a broadcast applied for
 * a request with an id is not deleted but marked finished, and kept until the window ends.
 */
export class Broadcaster implements AsyncDisposable {
  readonly #append: VChannelAppender;
  readonly #tso: TsoSource;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #lockTimeoutMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #store: BroadcastTaskStore;
  readonly #locks: ResourceLocks;
  readonly #requests: BroadcastRequests;
  readonly #stop = new AbortController();
  readonly #stopped = deferred<BroadcasterStopped>();
  readonly #jobs = new Set<Promise<unknown>>();
  readonly #closer = new CloseOnce();
  readonly #kept: KeptBroadcasts;

  private constructor(options: BroadcasterOptions) {
    this.#append = options.append;
    this.#tso = options.tso;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? noopLogger).child({ component: 'broadcaster' });
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#initialDelayMs = options.retryBackoff?.initialDelayMs ?? 50;
    this.#maxDelayMs = options.retryBackoff?.maxDelayMs ?? 2_000;
    this.#store = new BroadcastTaskStore({ kv: options.kv, prefix: options.prefix, guard: options.guard });
    this.#locks = new ResourceLocks({ clock: this.#clock });
    this.#requests = new BroadcastRequests({ ...options.dedup, clock: this.#clock });
    this.#kept = new KeptBroadcasts({
      store: this.#store,
      requests: this.#requests,
      clock: this.#clock,
      log: this.#log,
      stop: this.#stop.signal,
    });
  }

  /**
   * Checks the guard, loads the persisted tasks and resumes them in the background (in broadcast id
   * order, each under its resource keys again). Call it once this coordinator became the active one.
   * @throws StreamingError COORDINATOR_NOT_ACTIVE when the guard fails; UNRECOVERABLE for a task that
   *   cannot be decoded; MetaKvError UNAVAILABLE/CLOSED.
   * Abort: start is abandoned; nothing was written or appended.
   */
  static async start(options: BroadcasterOptions, callOptions: CallOptions = {}): Promise<Broadcaster> {
    const b = new Broadcaster(options);
    await b.#store.checkActive(callOptions);
    const tasks = await b.#store.loadAll(callOptions);
    const pending = tasks.filter((t) => t.finishedAtMs === undefined);
    for (const task of pending) b.#resume(task);
    if (pending.length > 0) b.#log.info({ tasks: pending.length }, 'resuming persisted broadcasts');
    b.#kept.load(tasks.filter((t) => t.finishedAtMs !== undefined));
    return b;
  }

  /** Settles (never rejects) when the broadcaster stopped: closed, leadership lost, or MetaKV failed. */
  get stopped(): Promise<BroadcasterStopped> {
    return this.#stopped.promise;
  }

  /** Broadcasts persisted or being persisted whose work is still running here. */
  get inFlight(): number {
    return this.#jobs.size;
  }

  /**
   * Appends `message` (its broadcast id unset; it is not modified) to every vchannel it names. See the
   * class comment for the steps, the at-least-once guarantee and what a repeated `requestId` gets.
   * @returns the broadcast id and, per vchannel, where its copy landed.
   * @throws StreamingError
   *   - RESOURCE_ACQUIRED (retriable) when a resource key stayed taken for `lockTimeoutMs`: nothing
   *     happened;
   *   - COORDINATOR_NOT_ACTIVE (retriable) when the broadcaster stopped or stops before the task was
   *     persisted: nothing happened;
   *   - OUTCOME_UNKNOWN (cause: why the broadcaster stopped) when it stopped after the task was
   *     persisted: the next active coordinator completes the broadcast — do not retry it;
   *   - the append's own error (e.g. VCHANNEL_DROPPED) when a vchannel failed with a non-retriable
   *     error: the task is deleted and nothing more is retried, but the other vchannels may hold their
   *     copy (this is not a rollback);
   *   - INVALID_ARGUMENT when the message already carries a broadcast id, or `requestId` was used for
   *     a different message;
   *   - what the broadcast that `requestId` names threw, to a retry of it.
   *   The TSO's errors when no id could be allocated (nothing happened).
   * Abort: before the broadcast id is allocated, nothing happened. After it, the task is (being)
   *   persisted and goes on in the background: the call rejects with the abort reason, but the
   *   broadcast completes (or fails) as if the caller had waited; a retry with the same `requestId`
   *   gets its outcome.
   */
  async broadcast(message: BroadcastMutableMessage, options: BroadcastCallOptions = {}): Promise<BroadcastOutcome> {
    const { signal } = options;
    this.#throwIfStopped();
    signal?.throwIfAborted();
    if (message.broadcastHeader.broadcastId !== 0n) {
      throw new StreamingError(
        'INVALID_ARGUMENT',
        `the broadcast already carries broadcast id ${message.broadcastHeader.broadcastId}; the broadcaster assigns it`,
      );
    }
    const request = broadcastRequestKey(options.requestId ?? '', message);
    return this.#requests.run(request, () => this.#start(message, request, signal), signal);
  }

  /** Takes the locks and the broadcast id, then runs the broadcast in the background: see StartBroadcast. */
  async #start(
    message: BroadcastMutableMessage,
    request: BroadcastRequestKey | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StartedBroadcast> {
    this.#throwIfStopped();
    const own = BroadcastMutableMessage.fromEnvelope(message);
    const waiting = linkSignals(this.#stop.signal, signal);
    let lock: ResourceLockHandle;
    let broadcastId: bigint;
    try {
      lock = await this.#locks.acquire(own.broadcastHeader.resourceKeys, {
        signal: waiting.signal,
        timeoutMs: this.#lockTimeoutMs,
      });
      try {
        broadcastId = await this.#tso.allocate(1, { signal: waiting.signal });
      } catch (e) {
        lock.release();
        throw e;
      }
    } catch (e) {
      if (this.#stop.signal.aborted && !signal?.aborted) throw this.#notActive();
      throw e;
    } finally {
      waiting.dispose();
    }
    own.withBroadcastId(broadcastId);
    return { job: this.#spawn(this.#runNew(own, lock, request)) };
  }

  /**
   * Stops background work (in-flight appends are aborted: their outcome is unknown) and waits for it
   * to wind down. Persisted tasks stay in MetaKV for the next active coordinator; callers still
   * waiting get OUTCOME_UNKNOWN, or COORDINATOR_NOT_ACTIVE when their task was not persisted yet.
   * Idempotent; returns the same promise twice.
   */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#halt('closed', new StreamingError('COORDINATOR_NOT_ACTIVE', 'the broadcaster was closed'));
      await Promise.allSettled([...this.#jobs, this.#kept.settled()]);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #resume(task: BroadcastTask): void {
    // Acquired synchronously, in id order, before `start` returns: new broadcasts queue behind.
    const lock = this.#locks.acquire(task.message.broadcastHeader.resourceKeys, { signal: this.#stop.signal });
    const log = this.#log.child({ broadcastId: String(task.broadcastId) });
    const job = this.#spawn((async () => this.#complete(task, await lock))());
    // Retries of the request that started it join it (the client's first attempt died with the old coordinator).
    if (task.request !== undefined) this.#requests.adopt(task.request, job);
    job.then(
      (outcome) => log.info({ vchannels: outcome.results.size }, 'resumed broadcast completed'),
      (e: unknown) => {
        if (this.#stop.signal.aborted) log.info({ err: e }, 'resumed broadcast left for the next active coordinator');
        else log.warn({ err: e }, 'resumed broadcast failed');
      },
    );
  }

  async #runNew(
    message: BroadcastMutableMessage,
    lock: ResourceLockHandle,
    request: BroadcastRequestKey | undefined,
  ): Promise<BroadcastOutcome> {
    let task: BroadcastTask;
    // True once a create attempt may have been applied without our knowing.
    let maybePersisted = false;
    try {
      task = await this.#persist(async () => {
        try {
          const createdAtMs = this.#clock.nowMs();
          return await this.#store.create(message, { createdAtMs, request }, { signal: this.#stop.signal });
        } catch (e) {
          if (!StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')) maybePersisted = true;
          throw e;
        }
      });
    } catch (e) {
      lock.release();
      if (!this.#stop.signal.aborted) this.#halt('failed', this.#failedError(e));
      throw maybePersisted ? this.#leftBehind(message.broadcastHeader.broadcastId) : this.#notActive();
    }
    return this.#complete(task, lock);
  }

  /** Appends the unrecorded copies of a persisted task, then deletes it; always releases `lock`. */
  async #complete(task: BroadcastTask, lock: ResourceLockHandle): Promise<BroadcastOutcome> {
    const id = task.broadcastId;
    const taskStop = new AbortController();
    const linked = linkSignals(this.#stop.signal, taskStop.signal);
    let failure: Failure | undefined;
    try {
      const copies = task.message.splitIntoMutableMessages().filter((c) => task.results.get(c.vchannel!) === undefined);
      await Promise.allSettled(
        copies.map(async (copy) => {
          try {
            await this.#deliver(id, copy, linked.signal);
          } catch (e) {
            if (failure === undefined) {
              failure =
                e instanceof DeliveryFailure ? { error: e.error, fromAppend: true } : { error: e, fromAppend: false };
              taskStop.abort(failure.error);
            }
          }
        }),
      );
      if (failure !== undefined && !failure.fromAppend) {
        // Stopped (closed, leadership lost) or MetaKV failed for good: the task stays for the next coordinator.
        if (!this.#stop.signal.aborted) this.#halt('failed', this.#failedError(failure.error));
        throw this.#leftBehind(id);
      }
      // Finished: acknowledged everywhere, or failed for good on one vchannel (nothing more to retry).
      // Applied everywhere and started by a request with an id: kept, marked finished, so that the next
      // active coordinator answers a retry of the request with this outcome too (until the dedup window
      // ends); otherwise deleted.
      if (!this.#stop.signal.aborted) {
        const keep = failure === undefined && task.request !== undefined;
        const finishedAtMs = this.#clock.nowMs();
        await this.#persist(() =>
          keep
            ? this.#store.markFinished(id, finishedAtMs, { signal: this.#stop.signal })
            : this.#store.delete(id, { signal: this.#stop.signal }),
        ).then(
          () => {
            if (keep) this.#kept.add(id, finishedAtMs);
            this.#kept.sweep();
          },
          (e: unknown) => {
            // Harmless: whoever loads the task next finds nothing to append (or fails it again) and
            // finishes it.
            this.#log.warn({ broadcastId: String(id), err: e }, 'could not finish a broadcast task');
          },
        );
      }
      if (failure !== undefined) throw failure.error;
      const results = new Map<string, AppendResult>();
      for (const [vchannel, r] of task.results) results.set(vchannel, r!);
      this.#log.debug({ broadcastId: String(id), vchannels: results.size }, 'broadcast applied');
      return { broadcastId: id, results };
    } finally {
      linked.dispose();
      lock.release();
    }
  }

  /**
   * Appends one copy until acknowledged, retrying retriable errors, then records the result.
   * @throws DeliveryFailure for a non-retriable append error; the stop/task signal's reason on abort;
   *   what {@link #persist} throws.
   */
  async #deliver(broadcastId: bigint, copy: MutableMessage, signal: AbortSignal): Promise<void> {
    const vchannel = copy.vchannel!;
    let result: AppendResult | undefined;
    for (let delayMs = this.#initialDelayMs; result === undefined; delayMs = Math.min(delayMs * 2, this.#maxDelayMs)) {
      signal.throwIfAborted();
      try {
        // Raced against the signal so an appender that ignores aborts cannot hold up close().
        result = await raceAbort(this.#append(copy.clone(), { signal }), signal);
      } catch (e) {
        if (signal.aborted) throw abortReason(signal);
        if (!isRetriable(e)) throw new DeliveryFailure(e);
        this.#log.debug({ broadcastId: String(broadcastId), vchannel, err: e, delayMs }, 'append failed; retrying');
        await this.#clock.sleep(delayMs, { signal });
      }
    }
    const appended = result;
    await this.#persist(() => this.#store.recordResult(broadcastId, vchannel, appended, { signal: this.#stop.signal }));
  }

  /**
   * Runs a MetaKV write, retrying retriable failures with backoff until the broadcaster stops.
   * @throws COORDINATOR_NOT_ACTIVE (and stops the broadcaster) when the guard fails; non-retriable errors.
   */
  async #persist<T>(write: () => Promise<T>): Promise<T> {
    for (let delayMs = this.#initialDelayMs; ; delayMs = Math.min(delayMs * 2, this.#maxDelayMs)) {
      try {
        return await write();
      } catch (e) {
        if (StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')) {
          this.#halt('not-active', e);
          throw e;
        }
        if (this.#stop.signal.aborted) throw abortReason(this.#stop.signal);
        if (!isRetriable(e)) throw e;
        this.#log.warn({ err: e, delayMs }, 'broadcast task write failed; retrying');
        await this.#clock.sleep(delayMs, { signal: this.#stop.signal });
      }
    }
  }

  #spawn<T>(work: Promise<T>): Promise<T> {
    this.#jobs.add(work);
    const done = (): void => {
      this.#jobs.delete(work);
    };
    work.then(done, done);
    return work;
  }

  #halt(reason: BroadcasterStopped['reason'], error: StreamingError): void {
    if (this.#stop.signal.aborted) return;
    if (reason !== 'closed') this.#log.warn({ err: error }, 'broadcaster stopped');
    this.#stop.abort(error);
    this.#stopped.resolve({ reason, error });
  }

  #throwIfStopped(): void {
    if (this.#stop.signal.aborted) throw this.#notActive();
  }

  #notActive(): StreamingError {
    const cause = this.#stop.signal.reason as unknown;
    return new StreamingError(
      'COORDINATOR_NOT_ACTIVE',
      `the broadcaster stopped (${cause instanceof Error ? cause.message : String(cause)}); nothing was broadcast`,
      { cause },
    );
  }

  #leftBehind(broadcastId: bigint): StreamingError {
    const cause = this.#stop.signal.reason as unknown;
    return new StreamingError(
      'OUTCOME_UNKNOWN',
      `the broadcaster stopped while broadcast ${broadcastId} was in progress; its task is persisted and the next ` +
        'active coordinator completes it (retry with the same request id to get its outcome; do not broadcast it anew)',
      { cause },
    );
  }

  #failedError(e: unknown): StreamingError {
    return new StreamingError(
      'UNRECOVERABLE',
      `broadcast tasks can no longer be written: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** A non-retriable append error: the broadcast fails with `error`. */
class DeliveryFailure {
  constructor(readonly error: unknown) {}
}
