import type { ClientDuplexStream } from '@grpc/grpc-js';
import { abortReason } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { MessageEncodeScratch, StreamingError } from '@streamsvc/message';
import type { MessageIdCodec, MessageIdCodecs } from '@streamsvc/message';
import { EncodedProduceRequest } from '@streamsvc/proto';
import type {
  AppendOutcome,
  ProduceRequest,
  ProduceResponse,
  StreamingNodeHandlerServiceClient,
} from '@streamsvc/proto';

import { appendResultFromWire } from './append-result.js';
import type { AppendResult } from './append-result.js';
import { errorFromWire, toStreamingError } from './errors.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PChannelAssignment } from './topology.js';

// The handler service's request serializer also takes produce requests encoded ahead.
type ProduceCall = ClientDuplexStream<ProduceRequest | EncodedProduceRequest, ProduceResponse>;

/** What one producer stream needs. */
export interface ProducerStreamOptions {
  readonly client: StreamingNodeHandlerServiceClient;
  /** The pchannel, its owner and the term the stream is created under. */
  readonly assignment: PChannelAssignment;
  readonly idCodecs: MessageIdCodecs;
  readonly logger: Logger;
  /** Coalescing limits of one produce request. */
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  /** How long the node may take to answer `create` before the attempt counts as failed. */
  readonly createTimeoutMs: number;
}

/** One append waiting for its outcome. Settles once; later calls are ignored. */
class Entry {
  readonly message: OutgoingMessage;
  sent = false;
  settled = false;
  readonly #resolve: (result: AppendResult) => void;
  readonly #reject: (error: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(
    message: OutgoingMessage,
    resolve: (result: AppendResult) => void,
    reject: (error: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    this.message = message;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    // Most appends carry no signal: no listener and no closure for them.
    if (signal !== undefined) {
      this.#onAbort = () => this.reject(abortReason(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  resolve(result: AppendResult): void {
    if (this.#settle()) this.#resolve(result);
  }

  reject(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    return true;
  }
}

/**
 * One `Produce` stream to the node owning a pchannel, under one term. Appends issued in the same tick
 * are coalesced into one request (up to the batch limits); requests are tagged with ids and the node
 * answers them in completion order. Once the stream fails (transport error, `close { error }`, a
 * wrong-node outcome) it is {@link broken}: it fails every unanswered append with the cause and the
 * owner ({@link Producer}) opens a new one.
 */
export class ProducerStream {
  readonly assignment: PChannelAssignment;
  readonly #o: ProducerStreamOptions;
  readonly #log: Logger;
  readonly #call: ProduceCall;
  readonly #pending = new Map<bigint, Entry[]>();
  #queue: Entry[] = [];
  /**
   * The bytes of the queued messages this stream took, reused once a flush copied them into requests.
   * Only a stream that takes appends writes it: once the stream failed or retires, the views of the
   * messages it failed before sending stay valid, and the producer's retry sends them.
   */
  readonly #scratch = new MessageEncodeScratch();
  #flushScheduled = false;
  #nextRequestId = 1n;
  #codec: MessageIdCodec | undefined;
  #failure: StreamingError | undefined;
  #closing = false;
  #opened: ((error?: unknown) => void) | undefined;

  private constructor(options: ProducerStreamOptions) {
    this.#o = options;
    this.assignment = options.assignment;
    this.#log = options.logger.child({
      component: 'producer',
      pchannel: options.assignment.pchannel,
      term: String(options.assignment.term),
      node: options.assignment.node.address,
    });
    this.#call = options.client.produce() as ProduceCall;
    this.#call.on('data', (r: ProduceResponse) => this.#onResponse(r));
    this.#call.on('error', (e: Error) => this.#fail(toStreamingError(e, `producer stream to ${this.#where()}`)));
    this.#call.on('status', () =>
      this.#fail(
        new StreamingError('INNER', `the producer stream to ${this.#where()} ended`, {
          details: { pchannel: this.assignment.pchannel },
        }),
      ),
    );
  }

  /**
   * Opens the stream and waits for the node to accept `create { pchannel, term }`.
   * @throws StreamingError what the node answered (e.g. UNMATCHED_CHANNEL_TERM, CHANNEL_NOT_EXIST), a
   *   retriable transport error, INNER after `createTimeoutMs`, or UNKNOWN when no message-id codec
   *   knows the node's WAL.
   */
  static open(options: ProducerStreamOptions): Promise<ProducerStream> {
    const stream = new ProducerStream(options);
    return new Promise<ProducerStream>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          stream.#fail(
            new StreamingError(
              'INNER',
              `${stream.#where()} did not answer create-producer in ${options.createTimeoutMs} ms`,
            ),
          ),
        options.createTimeoutMs,
      );
      stream.#opened = (error) => {
        clearTimeout(timer);
        stream.#opened = undefined;
        if (error === undefined) resolve(stream);
        else reject(error);
      };
      const { pchannel, term } = options.assignment;
      stream.#call.write({ request: { $case: 'create', create: { pchannel, term } } });
    });
  }

  /** True once the stream cannot take appends any more (failed or closing). */
  get broken(): boolean {
    return this.#failure !== undefined || this.#closing;
  }

  /**
   * Appends one message. Its bytes are taken before this returns (see {@link OutgoingMessage}), also
   * when the append is refused, so that the caller can retry it.
   * @throws StreamingError the outcome's error, or the stream's failure; the abort reason on abort
   *   (after the request was sent the message may still be written); INVALID_ARGUMENT when the message
   *   cannot be encoded.
   */
  append(message: OutgoingMessage, signal?: AbortSignal): Promise<AppendResult> {
    const refused =
      this.#failure ?? (this.#closing ? this.#retired() : signal?.aborted ? abortReason(signal) : undefined);
    try {
      if (refused === undefined) message.encodeInto(this.#scratch);
      else message.keep();
    } catch (e) {
      return Promise.reject(e);
    }
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push(new Entry(message, resolve, reject, signal));
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /**
   * Retires the stream: no new appends; `close {}` tells the node to answer what it has and end.
   * Appends in flight still complete.
   */
  close(): void {
    this.#retire(this.#retired());
  }

  /**
   * Ends the stream now: unsent appends fail with `error`, sent ones with `sentError` (their outcome is
   * unknown), and the call is cancelled.
   */
  destroy(error: StreamingError, sentError: StreamingError): void {
    this.#failQueued(error);
    for (const batch of this.#pending.values()) for (const e of batch) e.reject(sentError);
    this.#pending.clear();
    this.#fail(error);
    this.#call.cancel();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#failure !== undefined || this.#closing) return;
    const queue = this.#queue.filter((e) => !e.settled);
    this.#queue = [];
    let i = 0;
    while (i < queue.length) {
      const batch: Entry[] = [];
      let bytes = 0;
      while (i < queue.length && batch.length < this.#o.maxBatchMessages) {
        const next = queue[i]!;
        const size = next.message.bytes!.byteLength;
        if (batch.length > 0 && bytes + size > this.#o.maxBatchBytes) break;
        batch.push(next);
        bytes += size;
        i++;
      }
      const requestId = this.#nextRequestId++;
      const request = EncodedProduceRequest.of(
        requestId,
        batch.map((e) => e.message.bytes!),
      );
      batch.forEach((e, k) => {
        e.sent = true;
        // A retry sends the bytes from the request, which nothing writes again.
        e.message.bytes = request.messages[k];
      });
      this.#pending.set(requestId, batch);
      this.#call.write(request);
    }
    this.#scratch.reset();
  }

  #onResponse(response: ProduceResponse): void {
    const r = response.response;
    switch (r?.$case) {
      case 'create':
        this.#onCreated(r.create.walName, r.create.term);
        return;
      case 'produce': {
        const batch = this.#pending.get(r.produce.requestId);
        if (batch === undefined) return; // not ours (a protocol slip): nothing waits for it
        this.#pending.delete(r.produce.requestId);
        this.#complete(batch, r.produce.outcomes);
        if (this.#closing && this.#pending.size === 0) this.#call.cancel();
        return;
      }
      case 'close':
        this.#fail(
          r.close.error === undefined
            ? new StreamingError('ON_SHUTDOWN', `${this.#where()} closed the producer stream`)
            : errorFromWire(r.close.error, `producer stream to ${this.#where()}`),
        );
        return;
      case undefined:
        return;
    }
  }

  #onCreated(walName: string, term: bigint): void {
    if (this.#opened === undefined) return;
    if (!this.#o.idCodecs.has(walName)) {
      const known = this.#o.idCodecs.walNames.join(', ') || '(none)';
      this.#fail(
        new StreamingError(
          'UNKNOWN',
          `${this.#where()} runs wal "${walName}", which has no message-id codec in this client (known: ${known}); pass idCodecs`,
          { retriable: false },
        ),
      );
      return;
    }
    this.#codec = this.#o.idCodecs.get(walName);
    this.#log.debug({ walName, nodeTerm: String(term) }, 'producer stream created');
    this.#opened(undefined);
  }

  #complete(batch: readonly Entry[], outcomes: readonly AppendOutcome[]): void {
    if (outcomes.length !== batch.length) {
      const error = new StreamingError(
        'UNKNOWN',
        `${this.#where()} answered ${outcomes.length} outcomes for a request of ${batch.length} messages`,
        { retriable: false },
      );
      for (const e of batch) e.reject(error);
      return;
    }
    batch.forEach((entry, i) => {
      const o = outcomes[i]!.outcome;
      if (o?.$case === 'ok') {
        try {
          entry.resolve(appendResultFromWire(o.ok, this.#codec!));
        } catch (e) {
          entry.reject(e);
        }
        return;
      }
      const error = errorFromWire(o?.error, `append to ${this.#where()}`);
      // The node no longer serves the pchannel under this term: later appends must go elsewhere, while
      // the ones in flight still get their real outcomes (failing them early would invite duplicates).
      if (StreamingError.isWrongNode(error)) this.#retire(error);
      entry.reject(error);
    });
  }

  /** Marks the stream failed (first cause wins) and fails everything unanswered with it. */
  #fail(error: StreamingError): void {
    if (this.#failure === undefined) {
      this.#failure = error;
      if (!this.#closing) this.#log.debug({ err: error }, 'producer stream failed');
    }
    this.#opened?.(this.#failure);
    this.#failQueued(this.#failure);
    // Sent but unanswered: the node may have written them. Same code (retrying is the producer's call),
    // marked so callers that must not duplicate (transaction parts) can tell.
    const sent = markSent(this.#failure);
    for (const batch of this.#pending.values()) for (const e of batch) e.reject(sent);
    this.#pending.clear();
    if (!this.#call.writableEnded && !this.#call.destroyed) this.#call.end();
  }

  /** Takes no more appends (queued ones fail with `reason`); ends once the node answered the rest. */
  #retire(reason: StreamingError): void {
    if (this.#closing || this.#failure !== undefined) return;
    this.#closing = true;
    this.#failQueued(reason);
    if (this.#pending.size === 0) {
      this.#call.cancel();
    } else if (!this.#call.writableEnded && !this.#call.destroyed) {
      this.#call.write({ request: { $case: 'close', close: {} } });
      this.#call.end();
    }
  }

  #failQueued(error: StreamingError): void {
    for (const e of this.#queue) e.reject(error);
    this.#queue = [];
  }

  #retired(): StreamingError {
    return new StreamingError('INNER', `the producer stream to ${this.#where()} was retired`);
  }

  #where(): string {
    return `${this.assignment.node.address} (${this.assignment.pchannel}@t${this.assignment.term})`;
  }
}

/** `error`, marked as the failure of a message that was already sent (its outcome is unknown). */
function markSent(error: StreamingError): StreamingError {
  return new StreamingError(error.code, error.message.replace(/^\[streaming\] /, ''), {
    cause: error,
    retriable: error.retriable,
    details: { ...error.details, sent: true },
  });
}

/** True for the failure of an append that was sent before the stream failed (see markSent). */
export function wasSent(error: StreamingError): boolean {
  return error.details?.['sent'] === true;
}
