import type { ServerDuplexStream } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import type {
  AppendOutcome,
  ConsumedMessage,
  ConsumeRequest,
  ConsumeResponse,
  CreateConsumerRequest,
  ProduceRequest,
  ProduceResponse,
  StreamingErrorInfo,
  StreamingNodeHandlerServiceServer,
} from '@streamsvc/proto';

import type { DeliveryFilter, FakeLog } from './fake-log.js';

/** Counters and recordings the tests assert on. */
export interface FakeStats {
  produceRequests: number;
  producerCreates: { node: number; pchannel: string; term: bigint }[];
  consumerCreates: { node: number; request: CreateConsumerRequest }[];
  consumeMessagesWritten: number;
}

/** What a fake node needs from its cluster. */
export interface NodeEnv {
  owner(pchannel: string): { readonly node: number; readonly term: bigint } | undefined;
  log(pchannel: string): FakeLog | undefined;
  /** Appends one encoded message as `node` under `term` (waits while appends are held). */
  append(node: number, pchannel: string, term: bigint, bytes: Buffer): Promise<AppendOutcome>;
  readonly stats: FakeStats;
  produceDelayMs(): number;
  readonly consumeBatchSize: number;
}

/** The wire form of a StreamingError. */
export function wireError(e: StreamingError): StreamingErrorInfo {
  return { code: STREAMING_ERROR_NUMBERS[e.code], message: e.message, retriable: e.retriable };
}

interface Bound {
  readonly pchannel: string;
  readonly term: bigint;
  /** Ends the stream with `close { error }` once in-flight work is answered. */
  close(error: StreamingError | undefined): void;
  /** Fails the stream with a gRPC status (a transport-level break). */
  abort(): void;
}

/**
 * The node handler service of one fake node: Produce (requests processed after a random delay, so
 * answers come in completion order; a request after the pchannel moved is answered CHANNEL_FENCED and
 * the stream closed) and Consume (pull-based: it writes only while the stream is not backed up).
 */
export class FakeNode {
  readonly index: number;
  readonly #env: NodeEnv;
  readonly #streams = new Set<Bound>();

  constructor(index: number, env: NodeEnv) {
    this.index = index;
    this.#env = env;
  }

  /** The grpc-js implementation. */
  service(): StreamingNodeHandlerServiceServer {
    return { produce: (call) => this.#produce(call), consume: (call) => this.#consume(call) };
  }

  /** Closes every stream of `pchannel` with `error` (the pchannel moved away: CHANNEL_FENCED). */
  fence(pchannel: string, error: StreamingError): void {
    for (const s of [...this.#streams]) if (s.pchannel === pchannel) s.close(error);
  }

  /** Breaks every consumer stream with gRPC UNAVAILABLE. */
  breakStreams(pchannel?: string): void {
    for (const s of [...this.#streams]) if (pchannel === undefined || s.pchannel === pchannel) s.abort();
  }

  /** Validates create against the current ownership; returns the error to close with, if any. */
  #check(pchannel: string, term: bigint): StreamingError | bigint {
    const owner = this.#env.owner(pchannel);
    if (owner === undefined || owner.node !== this.index) {
      return new StreamingError('CHANNEL_NOT_EXIST', `pchannel ${pchannel} is not served by node ${this.index}`);
    }
    if (term !== 0n && term !== owner.term) {
      return new StreamingError('UNMATCHED_CHANNEL_TERM', `pchannel ${pchannel} is at term ${owner.term}, not ${term}`);
    }
    return owner.term;
  }

  #produce(call: ServerDuplexStream<ProduceRequest, ProduceResponse>): void {
    let bound: Bound | undefined;
    let inFlight = 0;
    let ending: StreamingError | null | undefined; // undefined: open; null: ending without error
    const finish = (): void => {
      if (ending === undefined || inFlight > 0 || call.writableEnded) return;
      if (ending !== null) call.write({ response: { $case: 'close', close: { error: wireError(ending) } } });
      call.end();
      if (bound !== undefined) this.#streams.delete(bound);
    };
    const close = (error: StreamingError | null): void => {
      if (ending !== undefined) return;
      ending = error;
      finish();
    };
    call.on('data', (req: ProduceRequest) => {
      const r = req.request;
      if (r === undefined || ending !== undefined) return;
      if (r.$case === 'close') return close(null);
      if (r.$case === 'create') {
        const checked = this.#check(r.create.pchannel, r.create.term);
        if (checked instanceof StreamingError) return close(checked);
        const pchannel = r.create.pchannel;
        bound = {
          pchannel,
          term: checked,
          close: (e) => close(e ?? null),
          abort: () => call.emit('error', unavailable()),
        };
        this.#streams.add(bound);
        this.#env.stats.producerCreates.push({ node: this.index, pchannel, term: checked });
        call.write({ response: { $case: 'create', create: { producerId: 'p', walName: 'memory', term: checked } } });
        return;
      }
      if (bound === undefined) return close(new StreamingError('INVALID_REQUEST_SEQ', 'produce before create'));
      const b = bound;
      const { requestId, messages } = r.produce;
      this.#env.stats.produceRequests++;
      inFlight++;
      setTimeout(() => {
        void Promise.all(messages.map((m) => this.#env.append(this.index, b.pchannel, b.term, m))).then((outcomes) => {
          inFlight--;
          if (!call.writableEnded && !call.cancelled) {
            call.write({ response: { $case: 'produce', produce: { requestId, outcomes } } });
          }
          const fenced = outcomes.find((o) => o.outcome?.$case === 'error' && o.outcome.error.code === 2);
          if (fenced !== undefined) close(new StreamingError('CHANNEL_FENCED', `pchannel ${b.pchannel} moved away`));
          finish();
        });
      }, this.#env.produceDelayMs());
    });
    call.on('end', () => close(null));
    call.on('error', () => undefined);
    call.on('cancelled', () => {
      if (bound !== undefined) this.#streams.delete(bound);
    });
  }

  #consume(call: ServerDuplexStream<ConsumeRequest, ConsumeResponse>): void {
    let stopped = false;
    let bound: Bound | undefined;
    let wakeDrain: (() => void) | undefined;
    const stop = (error: StreamingError | undefined): void => {
      if (stopped) return;
      stopped = true;
      wakeDrain?.();
      if (bound !== undefined) this.#streams.delete(bound);
      if (call.writableEnded || call.cancelled) return;
      if (error !== undefined) call.write({ response: { $case: 'close', close: { error: wireError(error) } } });
      call.end();
    };
    call.on('drain', () => wakeDrain?.());
    call.on('data', (req: ConsumeRequest) => {
      const r = req.request;
      if (r === undefined || stopped) return;
      if (r.$case === 'close') return stop(undefined);
      if (bound !== undefined) return stop(new StreamingError('INVALID_REQUEST_SEQ', 'create twice'));
      const create = r.create;
      this.#env.stats.consumerCreates.push({ node: this.index, request: create });
      const checked = this.#check(create.pchannel, create.term);
      if (checked instanceof StreamingError) return stop(checked);
      const log = this.#env.log(create.pchannel)!;
      let cursor: number;
      try {
        cursor = log.startOffset(create);
      } catch (e) {
        return stop(new StreamingError('INVALID_ARGUMENT', String(e)));
      }
      bound = {
        pchannel: create.pchannel,
        term: checked,
        close: (e) => stop(e ?? undefined),
        abort: () => {
          stopped = true;
          wakeDrain?.();
          call.emit('error', unavailable());
        },
      };
      this.#streams.add(bound);
      call.write({ response: { $case: 'create', create: { consumerId: 'c', walName: 'memory', term: checked } } });
      const filter = filterOf(create);
      void (async () => {
        while (!stopped) {
          const batch: ConsumedMessage[] = [];
          while (batch.length < this.#env.consumeBatchSize && cursor < log.entries.length) {
            const m = log.deliverable(cursor++, filter);
            if (m !== undefined) batch.push(m);
          }
          if (batch.length === 0) {
            await log.waitForAppend(50);
            continue;
          }
          this.#env.stats.consumeMessagesWritten += batch.length;
          if (!call.write({ response: { $case: 'messages', messages: { messages: batch } } })) {
            await new Promise<void>((resolve) => (wakeDrain = resolve));
            wakeDrain = undefined;
          }
        }
      })();
    });
    call.on('end', () => stop(undefined));
    call.on('error', () => undefined);
    call.on('cancelled', () => {
      stopped = true;
      wakeDrain?.();
      if (bound !== undefined) this.#streams.delete(bound);
    });
  }
}

function unavailable(): { code: number; details: string } {
  return { code: status.UNAVAILABLE, details: 'injected stream failure' };
}

function filterOf(create: CreateConsumerRequest): DeliveryFilter {
  let ttGt: bigint | undefined;
  let ttGte: bigint | undefined;
  let types: Set<number> | undefined;
  for (const f of create.deliverFilters) {
    switch (f.filter?.$case) {
      case 'timeTickGt':
        ttGt = f.filter.timeTickGt;
        break;
      case 'timeTickGte':
        ttGte = f.filter.timeTickGte;
        break;
      case 'messageTypes':
        types = new Set(f.filter.messageTypes.types);
        break;
      case undefined:
        break;
    }
  }
  return { vchannel: create.vchannel, ttGt, ttGte, types, includeTimeTicks: create.includeTimeTicks };
}
