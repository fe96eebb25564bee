import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '@streamsvc/common';
import { decodeMessage, MessageError, PayloadArena, StreamingError } from '@streamsvc/message';
import type { AppendOutcome, ProduceRequest, ProduceResponse } from '@streamsvc/proto';
import type { AppendResult, Wal } from '@streamsvc/wal-core';

import type { WalManager } from './wal-manager.js';
import { invalidSequence, toErrorInfo } from './wire-errors.js';

export interface ProduceHandlerOptions {
  /** Where the stream's WAL comes from (only `get` is used, so tests can pass a fake). */
  readonly manager: Pick<WalManager, 'get'>;
  /** The WAL backend's name, reported to clients (they parse message ids with its codec). */
  readonly walName: string;
  readonly logger: Logger;
  /** Produce requests of one stream being appended at once; past it the stream stops being read. */
  readonly maxInFlightRequests: number;
  /** Whether the node is shutting down (new producers are refused). */
  readonly shuttingDown: () => boolean;
}

let producerIds = 0;

/**
 * One producer stream: `create` binds it to a pchannel's WAL, then every `produce` request's messages
 * are appended concurrently and answered, one outcome per message, in completion order of requests.
 * Reading stops while `maxInFlightRequests` are being appended (HTTP/2 flow control pushes back on
 * the client), so a fast producer cannot grow the server's memory. Bad bytes in one message fail
 * that message only; protocol violations close the stream with INVALID_REQUEST_SEQ.
 */
export class ProduceHandler {
  readonly #call: ServerDuplexStream<ProduceRequest, ProduceResponse>;
  readonly #o: ProduceHandlerOptions;
  readonly #log: Logger;
  #wal: Wal | undefined;
  #inFlight = 0;
  #paused = false;
  #ending = false;
  #ended = false;
  #drained: (() => void) | undefined;

  constructor(call: ServerDuplexStream<ProduceRequest, ProduceResponse>, options: ProduceHandlerOptions) {
    this.#call = call;
    this.#o = options;
    this.#log = options.logger.child({ component: 'produce', producer: ++producerIds });
    call.on('data', (request: ProduceRequest) => this.#onRequest(request));
    call.on('end', () => void this.#finish(undefined));
    call.on('error', () => void this.#finish(undefined));
    call.on('cancelled', () => void this.#finish(undefined));
  }

  /** Ends the stream with `close { error }` once the requests in flight are answered (shutdown, fencing). */
  shutdown(error: StreamingError): Promise<void> {
    return this.#finish(error);
  }

  #onRequest(request: ProduceRequest): void {
    const r = request.request;
    if (this.#ending || !r) return;
    switch (r.$case) {
      case 'create':
        this.#create(r.create.pchannel, r.create.term);
        return;
      case 'produce':
        if (!this.#wal) {
          void this.#finish(invalidSequence('produce before create on a producer stream'));
          return;
        }
        this.#produce(this.#wal, r.produce.requestId, r.produce.messages);
        return;
      case 'close':
        void this.#finish(undefined);
        return;
    }
  }

  #create(pchannel: string, term: bigint): void {
    if (this.#wal) {
      void this.#finish(invalidSequence('create twice on one producer stream'));
      return;
    }
    try {
      if (this.#o.shuttingDown()) throw new StreamingError('ON_SHUTDOWN', 'the node is shutting down');
      const wal = this.#o.manager.get(pchannel, term);
      this.#wal = wal;
      this.#write({
        response: {
          $case: 'create',
          create: { producerId: `p${producerIds}`, walName: this.#o.walName, term: wal.term },
        },
      });
      this.#log.debug({ pchannel, term: String(wal.term) }, 'producer created');
    } catch (e) {
      void this.#finish(e);
    }
  }

  #produce(wal: Wal, requestId: bigint, messages: readonly Uint8Array[]): void {
    this.#inFlight++;
    if (this.#inFlight >= this.#o.maxInFlightRequests && !this.#paused) {
      this.#paused = true;
      this.#call.pause();
    }
    // Every message is decoded here, synchronously: the bytes are views of the whole request
    // (decodeProduceRequest does not copy them), which must not stay alive while the appends run. The
    // payloads are copied into one arena per request: one allocation, shared only by these messages,
    // which go to this WAL together. The outcomes fill one array and a counter says when the last one
    // is in: cheaper per message than a Promise.all of per-message promises.
    const decodeOptions = { arena: PayloadArena.forInputs(messages) };
    const outcomes = new Array<AppendOutcome>(messages.length);
    let pending = messages.length;
    const settle = (i: number, outcome: AppendOutcome): void => {
      outcomes[i] = outcome;
      if (--pending === 0) this.#answer(wal, requestId, outcomes);
    };
    for (let i = 0; i < messages.length; i++) {
      let appended: Promise<AppendResult>;
      try {
        appended = wal.append(decodeMessage(messages[i]!, decodeOptions));
      } catch (e) {
        settle(i, failed(e));
        continue;
      }
      void appended.then(
        (r) => settle(i, succeeded(r)),
        (e: unknown) => settle(i, failed(e)),
      );
    }
    if (messages.length === 0) this.#answer(wal, requestId, outcomes);
  }

  #answer(wal: Wal, requestId: bigint, outcomes: AppendOutcome[]): void {
    try {
      this.#write({ response: { $case: 'produce', produce: { requestId, outcomes } } });
    } finally {
      this.#inFlight--;
      if (this.#paused && this.#inFlight < this.#o.maxInFlightRequests / 2) {
        this.#paused = false;
        this.#call.resume();
      }
      if (this.#inFlight === 0) this.#drained?.();
    }
    // The WAL went away under us (fenced, moved): tell the client once, so it re-routes.
    if (!wal.available)
      void this.#finish(new StreamingError('CHANNEL_FENCED', `pchannel ${wal.pchannel} is no longer served here`));
  }

  async #finish(error: unknown): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    if (error !== undefined) this.#write({ response: { $case: 'close', close: { error: toErrorInfo(error) } } });
    if (!this.#ended) {
      this.#ended = true;
      this.#call.end();
    }
  }

  #write(response: ProduceResponse): void {
    if (this.#ended || this.#call.cancelled || this.#call.destroyed) return;
    this.#call.write(response);
  }
}

function succeeded(r: AppendResult): AppendOutcome {
  return {
    outcome: {
      $case: 'ok',
      ok: {
        messageId: r.id.toString(),
        timeTick: r.timeTick,
        lastConfirmed: r.lastConfirmed.toString(),
        txn: r.txnContext ? { txnId: r.txnContext.txnId, keepaliveMs: r.txnContext.keepaliveMs } : undefined,
      },
    },
  };
}

function failed(e: unknown): AppendOutcome {
  return { outcome: { $case: 'error', error: toErrorInfo(toStreaming(e)) } };
}

/** Decoding failures are the client's fault: INVALID_ARGUMENT, not INNER. */
function toStreaming(e: unknown): unknown {
  if (MessageError.is(e)) return new StreamingError('INVALID_ARGUMENT', e.message, { cause: e });
  return e;
}
