import { createHash } from 'node:crypto';

import { deferred, isRetriable, raceAbort, systemClock } from '@streamsvc/common';
import type { Clock, Deferred } from '@streamsvc/common';
import { encodeMessage, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage } from '@streamsvc/message';
import type { AppendResult } from '@streamsvc/proto';

/** What a broadcast answers: its id and, per target vchannel in the broadcast's order, where its copy landed. */
export interface BroadcastOutcome {
  readonly broadcastId: bigint;
  readonly results: ReadonlyMap<string, AppendResult>;
}

/** Identifies one client broadcast call across its retries. */
export interface BroadcastRequestKey {
  /** The client's request id (non-empty). */
  readonly id: string;
  /** SHA-256 (hex) of the encoded broadcast without its broadcast id: tells a retry from another message. */
  readonly fingerprint: string;
}

/** How long finished broadcasts are remembered for retries; see {@link BroadcastRequests}. */
export interface BroadcastDedupOptions {
  /** How long a finished broadcast's outcome is kept after it finished. Default 10 min. */
  readonly windowMs?: number;
  /** At most this many finished outcomes are kept; the oldest go first. Default 10,000. */
  readonly maxFinished?: number;
}

/**
 * The key of a broadcast request, or `undefined` for an empty request id (an older client: every
 * request is a new broadcast). `message` must not carry its broadcast id yet.
 */
export function broadcastRequestKey(
  requestId: string,
  message: BroadcastMutableMessage,
): BroadcastRequestKey | undefined {
  if (requestId === '') return undefined;
  const fingerprint = createHash('sha256').update(encodeMessage(message)).digest('hex');
  return { id: requestId, fingerprint };
}

/**
 * Starts a broadcast. Resolves, once the broadcast may have happened (its broadcast id is allocated),
 * with `job`, the promise of its outcome, which does not depend on the caller's signal; rejects when
 * nothing happened (a lock timeout, the caller aborted before the id was allocated, the broadcaster
 * stopped).
 */
export type StartBroadcast = () => Promise<StartedBroadcast>;

/** A broadcast under way; see {@link StartBroadcast}. */
export interface StartedBroadcast {
  readonly job: Promise<BroadcastOutcome>;
}

type Settled =
  { readonly ok: true; readonly outcome: BroadcastOutcome } | { readonly ok: false; readonly error: unknown };

interface InFlight {
  readonly fingerprint: string;
  /** The broadcast's outcome once it started; `undefined` when it was abandoned before it did anything. */
  readonly started: Deferred<StartedBroadcast | undefined>;
}

interface Finished {
  readonly fingerprint: string;
  readonly settled: Settled;
  readonly finishedAtMs: number;
}

/**
 * Runs each client broadcast request once however often it is retried, keyed by the client's request
 * id: a client whose attempt's deadline passed cannot tell whether the broadcast was applied, and
 * broadcasting it again is not harmless (a second CreateCollection fails, other messages are stored
 * twice).
 *
 * A request whose id matches a broadcast in progress waits for that broadcast's outcome; one whose id
 * matches a broadcast finished within the window gets its outcome (the broadcast id and per-vchannel
 * results, or the non-retriable error it failed with) without broadcasting again. A request with a
 * known id but a different message is refused with INVALID_ARGUMENT.
 *
 * **After the window** (`windowMs` since the broadcast finished, or once `maxFinished` later broadcasts
 * finished) the id is forgotten: a retry is broadcast again, as a request without an id always is. The
 * table lives in memory; the broadcaster fills it at takeover from the persisted tasks — pending ones
 * ({@link adopt}) and finished ones it keeps for the window ({@link remember}) — so retries that reach
 * the next active coordinator match too. Failures are not persisted. A broadcast that failed with a
 * retriable error is forgotten at once, so the retry the error invites is broadcast anew.
 */
export class BroadcastRequests {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxFinished: number;
  readonly #inFlight = new Map<string, InFlight>();
  /** In the order the broadcasts finished, so the expired and the oldest are at the front. */
  readonly #finished = new Map<string, Finished>();

  constructor(options: BroadcastDedupOptions & { readonly clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#maxFinished = options.maxFinished ?? 10_000;
  }

  /** How long a finished broadcast's outcome is kept. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** How many finished outcomes are kept at most. */
  get maxFinished(): number {
    return this.#maxFinished;
  }

  /**
   * Remembers the outcome of a broadcast another coordinator finished at `finishedAtMs` (a finished
   * task loaded at takeover), so retries of its request get it. Call in `finishedAtMs` order, before
   * any broadcast runs here.
   */
  remember(key: BroadcastRequestKey, outcome: BroadcastOutcome, finishedAtMs: number): void {
    this.#finished.delete(key.id);
    this.#finished.set(key.id, { fingerprint: key.fingerprint, settled: { ok: true, outcome }, finishedAtMs });
    this.#expire();
  }

  /** Broadcasts in progress and finished ones remembered (for tests and metrics). */
  get size(): { readonly inFlight: number; readonly finished: number } {
    this.#expire();
    return { inFlight: this.#inFlight.size, finished: this.#finished.size };
  }

  /**
   * Runs `start` unless `key` names a broadcast in progress (then waits for its outcome) or recently
   * finished (then answers its outcome at once). Without a key, just runs `start`.
   * @throws StreamingError INVALID_ARGUMENT when `key.id` was used for a different message; what
   *   `start` or the broadcast it started throws (the latter also to every retry within the window).
   * Abort: the call rejects with the abort reason; the broadcast (this call's or the one it joined) goes
   *   on if it started, and a later retry with the same id gets its outcome.
   */
  async run(
    key: BroadcastRequestKey | undefined,
    start: StartBroadcast,
    signal?: AbortSignal,
  ): Promise<BroadcastOutcome> {
    if (key === undefined) return raceAbort((await start()).job, signal);
    for (;;) {
      signal?.throwIfAborted();
      const finished = this.#lookupFinished(key);
      if (finished !== undefined) {
        if (finished.settled.ok) return finished.settled.outcome;
        throw finished.settled.error;
      }
      const current = this.#inFlight.get(key.id);
      if (current !== undefined) {
        checkSameMessage(key, current.fingerprint);
        const started = await raceAbort(current.started.promise, signal);
        // The first request gave up before it broadcast anything: this one may be the broadcast now.
        if (started === undefined) continue;
        return raceAbort(started.job, signal);
      }
      const entry: InFlight = { fingerprint: key.fingerprint, started: deferred() };
      this.#inFlight.set(key.id, entry);
      let started: StartedBroadcast;
      try {
        started = await start();
      } catch (e) {
        this.#inFlight.delete(key.id);
        entry.started.resolve(undefined);
        throw e;
      }
      this.#track(key, entry, started.job);
      return raceAbort(started.job, signal);
    }
  }

  /**
   * Registers a broadcast that is already under way without a caller — a persisted task resumed after
   * a takeover — so retries of its request join it.
   */
  adopt(key: BroadcastRequestKey, job: Promise<BroadcastOutcome>): void {
    const entry: InFlight = { fingerprint: key.fingerprint, started: deferred() };
    this.#inFlight.set(key.id, entry);
    this.#track(key, entry, job);
  }

  #track(key: BroadcastRequestKey, entry: InFlight, job: Promise<BroadcastOutcome>): void {
    entry.started.resolve({ job });
    job.then(
      (outcome) => this.#finish(key, entry, { ok: true, outcome }),
      (error: unknown) => this.#finish(key, entry, isRetriable(error) ? undefined : { ok: false, error }),
    );
  }

  #finish(key: BroadcastRequestKey, entry: InFlight, settled: Settled | undefined): void {
    if (this.#inFlight.get(key.id) === entry) this.#inFlight.delete(key.id);
    if (settled === undefined) return;
    this.#finished.delete(key.id);
    this.#finished.set(key.id, { fingerprint: key.fingerprint, settled, finishedAtMs: this.#clock.nowMs() });
    this.#expire();
  }

  #lookupFinished(key: BroadcastRequestKey): Finished | undefined {
    this.#expire();
    const finished = this.#finished.get(key.id);
    if (finished !== undefined) checkSameMessage(key, finished.fingerprint);
    return finished;
  }

  #expire(): void {
    const oldest = this.#clock.nowMs() - this.#windowMs;
    for (const [id, f] of this.#finished) {
      if (this.#finished.size <= this.#maxFinished && f.finishedAtMs > oldest) break;
      this.#finished.delete(id);
    }
  }
}

function checkSameMessage(key: BroadcastRequestKey, fingerprint: string): void {
  if (fingerprint !== key.fingerprint) {
    throw new StreamingError(
      'INVALID_ARGUMENT',
      `broadcast request id ${key.id} was already used for a different message; ` +
        'every broadcast needs a request id of its own (retries of the same broadcast reuse it)',
    );
  }
}
