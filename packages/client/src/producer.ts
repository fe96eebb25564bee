import { raceAbort, throwIfAborted } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import type { MessageIdCodecs } from '@streamsvc/message';

import type { AppendResult } from './append-result.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { ChannelPool } from './channel-pool.js';
import type { Discovery } from './discovery.js';
import { DefaultDeadline } from './default-timeout.js';
import { clientClosedError, isAbortReason, outcomeUnknownError, toStreamingError } from './errors.js';
import type { OutgoingMessage } from './outgoing-message.js';
import { ProducerStream, wasSent } from './producer-stream.js';
import { assignmentOf, movedOn, UNKNOWN_PCHANNEL, unknownPChannel } from './routing.js';
import type { PChannelAssignment } from './topology.js';
import type { TopologyWatcher } from './topology-watcher.js';

/** What the producer needs. */
export interface ProducerOptions {
  readonly pool: ChannelPool;
  readonly watcher: TopologyWatcher;
  readonly discovery: Discovery;
  readonly idCodecs: MessageIdCodecs;
  readonly logger: Logger;
  /** Pause between attempts, unless a newer topology for the pchannel arrives first. */
  readonly backoff: BackoffOptions;
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  readonly createTimeoutMs: number;
  /** Bounds an append without a signal once it has to wait or retry (see {@link Producer.append}). */
  readonly defaultTimeoutMs: number;
}

interface StreamSlot {
  readonly assignment: PChannelAssignment;
  readonly opening: Promise<ProducerStream>;
  stream: ProducerStream | undefined;
  failed: boolean;
}

/**
 * The resumable producer: routes each append to the node that owns its pchannel under the current
 * term, keeps one {@link ProducerStream} per pchannel (opened lazily, replaced when the topology moves
 * the pchannel or the stream breaks), and retries retriable failures until they succeed, the caller
 * aborts, or the client closes.
 *
 * Retries make appends at-least-once: a message whose answer was lost (the node died, the stream was
 * reset) is sent again and may be stored twice.
 */
export class Producer {
  readonly #o: ProducerOptions;
  readonly #log: Logger;
  readonly #slots = new Map<string, StreamSlot>();
  #closed = false;

  constructor(options: ProducerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'producer' });
  }

  /**
   * Appends one message to `pchannel`. Its bytes are taken before this returns (see
   * {@link OutgoingMessage}); a retry sends the same bytes.
   * @throws StreamingError a non-retriable error (the server's code and text), INVALID_ARGUMENT for a
   *   pchannel the cluster does not have, ON_SHUTDOWN once the client is closed, OUTCOME_UNKNOWN when the
   *   client closed while the append was in flight; the abort reason on abort (outcome unknown).
   */
  async append(
    pchannel: string,
    message: OutgoingMessage,
    callerSignal?: AbortSignal,
    options: { retrySent?: boolean } = {},
  ): Promise<AppendResult> {
    // Without a caller's signal, waiting for an owner, for a stream and between retries is bounded by
    // defaultTimeoutMs, counted from here. The deadline (a controller and a timer, ~4.5 µs) is made only
    // when the append first has to wait: the common case, an open stream that answers, costs none.
    const deadline =
      callerSignal === undefined
        ? new DefaultDeadline(this.#o.defaultTimeoutMs, `append to ${pchannel}`, 'OUTCOME_UNKNOWN')
        : undefined;
    let backoff: Backoff | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.#closed) throw clientClosedError();
        throwIfAborted(callerSignal ?? deadline!.armed);
        // The common case (owner known, its stream open) reaches the stream without waiting on a promise.
        const known = assignmentOf(this.#o.watcher.current, pchannel);
        // Whatever waits first takes the message's bytes (the caller may reuse its payload once we return).
        if (known === undefined) message.keep();
        const found =
          known !== undefined
            ? known
            : await this.#o.watcher.wait((t) => assignmentOf(t, pchannel), {
                signal: callerSignal ?? deadline!.signal(),
              });
        if (found === UNKNOWN_PCHANNEL) throw unknownPChannel(pchannel, this.#o.watcher.current);
        const assignment = found!;
        let error: StreamingError;
        try {
          const open = this.#openStream(assignment);
          if (open === undefined) message.keep();
          const stream = open ?? (await raceAbort(this.#streamFor(assignment), callerSignal ?? deadline!.signal()));
          return await stream.append(message, callerSignal ?? deadline!.armed);
        } catch (e) {
          if (isAbortReason(e, callerSignal ?? deadline!.armed)) throw e;
          error = toStreamingError(e, `append to ${pchannel}`);
        }
        if (!error.retriable || this.#closed) throw error;
        if (options.retrySent === false && wasSent(error)) {
          // A transaction part must not be stored twice: the caller decides (the txn fails as a whole).
          throw outcomeUnknownError(`append to ${pchannel} failed after it was sent (${error.code})`);
        }
        this.#forget(assignment, error);
        backoff ??= new Backoff(this.#o.backoff);
        const delayMs = backoff.next();
        this.#log.debug(
          {
            pchannel,
            term: String(assignment.term),
            node: assignment.node.address,
            attempt,
            delayMs,
            code: error.code,
          },
          'append failed; retrying',
        );
        // Whichever comes first: a topology in which the pchannel moved on, or the backoff delay.
        await this.#o.watcher.wait((t) => (movedOn(t, assignment) ? true : undefined), {
          signal: callerSignal ?? deadline!.signal(),
          timeoutMs: delayMs,
        });
      }
    } finally {
      deadline?.clear();
    }
  }

  /** Fails every append in flight and closes every stream. */
  close(): void {
    this.#closed = true;
    const closed = clientClosedError();
    const unknown = outcomeUnknownError('the streaming client was closed');
    for (const slot of this.#slots.values()) {
      if (slot.stream !== undefined) slot.stream.destroy(closed, unknown);
      else void slot.opening.then((s) => s.destroy(closed, unknown)).catch(() => {});
    }
    this.#slots.clear();
  }

  /** The slot's stream for `assignment` if it is open and usable now. */
  #openStream(assignment: PChannelAssignment): ProducerStream | undefined {
    const slot = this.#slots.get(assignment.pchannel);
    const stream = slot?.stream;
    return stream !== undefined && !slot!.failed && !stream.broken && sameOwner(slot!.assignment, assignment)
      ? stream
      : undefined;
  }

  /** The open stream for `assignment`, opening one (shared by concurrent callers) when needed. */
  #streamFor(assignment: PChannelAssignment): Promise<ProducerStream> {
    const slot = this.#slots.get(assignment.pchannel);
    if (slot !== undefined && sameOwner(slot.assignment, assignment) && !slot.failed && !slot.stream?.broken) {
      return slot.stream !== undefined ? Promise.resolve(slot.stream) : slot.opening;
    }
    // The pchannel moved (or its stream broke): retire the old stream; its appends in flight still finish.
    slot?.stream?.close();
    const opening = ProducerStream.open({
      client: this.#o.pool.handler(assignment.node.address),
      assignment,
      idCodecs: this.#o.idCodecs,
      logger: this.#o.logger,
      maxBatchBytes: this.#o.maxBatchBytes,
      maxBatchMessages: this.#o.maxBatchMessages,
      createTimeoutMs: this.#o.createTimeoutMs,
    });
    const next: StreamSlot = { assignment, opening, stream: undefined, failed: false };
    this.#slots.set(assignment.pchannel, next);
    opening.then(
      (stream) => {
        if (this.#closed) stream.destroy(clientClosedError(), outcomeUnknownError('the streaming client was closed'));
        else if (this.#slots.get(assignment.pchannel) !== next)
          stream.close(); // superseded while opening
        else next.stream = stream;
      },
      () => {
        next.failed = true;
      },
    );
    return opening;
  }

  /** After a retriable failure: drop a broken stream, and tell the coordinator about a wrong-node answer. */
  #forget(assignment: PChannelAssignment, error: StreamingError): void {
    const slot = this.#slots.get(assignment.pchannel);
    if (slot !== undefined && sameOwner(slot.assignment, assignment) && (slot.failed || slot.stream?.broken)) {
      this.#slots.delete(assignment.pchannel);
    }
    if (StreamingError.isWrongNode(error)) {
      this.#o.discovery.reportError(assignment.pchannel, assignment.term, error);
    }
  }
}

function sameOwner(a: PChannelAssignment, b: PChannelAssignment): boolean {
  return a.term === b.term && a.node.address === b.node.address;
}
