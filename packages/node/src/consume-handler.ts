import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '@streamsvc/common';
import {
  encodeImmutableMessageInto,
  isMessageType,
  MessageError,
  MessageType,
  StreamingError,
} from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage, MessageIdCodec } from '@streamsvc/message';
import { ConsumeBatch } from '@streamsvc/proto';
import type { ConsumeBatchItem, ConsumeRequest, ConsumeResponse, CreateConsumerRequest } from '@streamsvc/proto';
import type { DeliverFilter, DeliverPolicy, WalScanner } from '@streamsvc/wal-core';

import type { WalManager } from './wal-manager.js';
import { invalidSequence, toErrorInfo } from './wire-errors.js';

export interface ConsumeHandlerOptions {
  readonly manager: WalManager;
  readonly walName: string;
  /** Parses message ids in deliver policies (the backend's codec). */
  readonly idCodec: MessageIdCodec;
  readonly logger: Logger;
  /** Messages per response batch. */
  readonly batchSize: number;
  readonly shuttingDown: () => boolean;
}

let consumerIds = 0;

/**
 * One consumer stream: `create` opens a WAL reader (vchannel, deliver policy, filters), then batches of
 * messages follow in strict time-tick order. The reader is pull-based and the stream is written only
 * when it drains, so a client that stops reading costs a bounded amount of memory and never holds up
 * other consumers or producers.
 */
/**
 * A consume stream as the handler writes it: batches of messages go out as {@link ConsumeBatch}es,
 * encoded straight into the response by the node's handler service.
 */
export type ConsumeCall = ServerDuplexStream<ConsumeRequest, ConsumeResponse | ConsumeBatch>;

export class ConsumeHandler {
  readonly #call: ConsumeCall;
  readonly #o: ConsumeHandlerOptions;
  readonly #log: Logger;
  #scanner: WalScanner | undefined;
  #closing = false;
  #drain: (() => void) | undefined;

  constructor(call: ConsumeCall, options: ConsumeHandlerOptions) {
    this.#call = call;
    this.#o = options;
    this.#log = options.logger.child({ component: 'consume', consumer: ++consumerIds });
    call.on('data', (request: ConsumeRequest) => this.#onRequest(request));
    call.on('drain', () => this.#drain?.());
    const stop = (): void => void this.#close(undefined);
    call.on('end', stop);
    call.on('error', stop);
    call.on('cancelled', stop);
  }

  /** Ends the stream with `close { error }` (node shutdown). */
  shutdown(error: StreamingError): Promise<void> {
    return this.#close(error);
  }

  #onRequest(request: ConsumeRequest): void {
    const r = request.request;
    if (!r || this.#closing) return;
    if (r.$case === 'close') {
      void this.#close(undefined);
      return;
    }
    if (this.#scanner) {
      void this.#close(invalidSequence('create twice on one consumer stream'));
      return;
    }
    try {
      this.#create(r.create);
    } catch (e) {
      void this.#close(e);
    }
  }

  #create(create: CreateConsumerRequest): void {
    if (this.#o.shuttingDown()) throw new StreamingError('ON_SHUTDOWN', 'the node is shutting down');
    const wal = this.#o.manager.get(create.pchannel, create.term);
    const scanner = wal.read({
      policy: this.#policy(create),
      vchannel: create.vchannel || undefined,
      filters: filtersOf(create),
      name: `consumer-${consumerIds}`,
    });
    this.#scanner = scanner;
    this.#write({
      response: {
        $case: 'create',
        create: { consumerId: `c${consumerIds}`, walName: this.#o.walName, term: wal.term },
      },
    });
    this.#log.debug(
      { pchannel: create.pchannel, vchannel: create.vchannel, term: String(wal.term) },
      'consumer created',
    );
    void this.#pump(scanner, create.includeTimeTicks, () => wal.available);
  }

  async #pump(scanner: WalScanner, includeTimeTicks: boolean, walAvailable: () => boolean): Promise<void> {
    try {
      for (;;) {
        const batch = await scanner.nextBatch(this.#o.batchSize);
        if (batch.length === 0) break;
        const items = batch.filter((m) => includeTimeTicks || m.type !== MessageType.TimeTick).map(toItem);
        if (items.length === 0) continue;
        if (!this.#write(ConsumeBatch.of(items, encodeImmutableMessageInto))) {
          // The client is not reading fast enough: wait for the stream to drain before reading more.
          await new Promise<void>((resolve) => (this.#drain = resolve));
          this.#drain = undefined;
        }
        if (this.#closing) return;
      }
      const why = walAvailable() ? 'the reader ended' : 'the WAL was closed or fenced';
      await this.#close(new StreamingError(walAvailable() ? 'ON_SHUTDOWN' : 'CHANNEL_FENCED', why));
    } catch (e) {
      await this.#close(e);
    }
  }

  async #close(error: unknown): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#drain?.();
    await this.#scanner?.close();
    if (error !== undefined) this.#log.debug({ err: error }, 'consumer closed');
    if (error !== undefined) this.#write({ response: { $case: 'close', close: { error: toErrorInfo(error) } } });
    if (!this.#call.cancelled && !this.#call.destroyed) this.#call.end();
  }

  /** Writes a response; false when the stream's buffer is full (wait for 'drain'). */
  #write(response: ConsumeResponse | ConsumeBatch): boolean {
    if (this.#call.cancelled || this.#call.destroyed || this.#call.writableEnded) return true;
    return this.#call.write(response);
  }

  #policy(create: CreateConsumerRequest): DeliverPolicy {
    const p = create.deliverPolicy?.policy;
    try {
      switch (p?.$case) {
        case undefined:
        case 'all':
          return { kind: 'all' };
        case 'latest':
          return { kind: 'latest' };
        case 'startFrom':
          return { kind: 'startFrom', id: this.#o.idCodec.parse(p.startFrom) };
        case 'startAfter':
          return { kind: 'startAfter', id: this.#o.idCodec.parse(p.startAfter) };
      }
    } catch (e) {
      if (MessageError.is(e)) throw new StreamingError('INVALID_ARGUMENT', e.message, { cause: e });
      throw e;
    }
  }
}

function filtersOf(create: CreateConsumerRequest): DeliverFilter[] {
  return create.deliverFilters.flatMap((f): DeliverFilter[] => {
    switch (f.filter?.$case) {
      case 'timeTickGt':
        return [{ kind: 'timeTickGt', tt: f.filter.timeTickGt }];
      case 'timeTickGte':
        return [{ kind: 'timeTickGte', tt: f.filter.timeTickGte }];
      case 'messageTypes': {
        const types = f.filter.messageTypes.types;
        const unknown = types.filter((t) => !isMessageType(t));
        if (unknown.length > 0)
          throw new StreamingError('INVALID_ARGUMENT', `unknown message types ${unknown.join(', ')} in filter`);
        return [{ kind: 'messageType', types: types as MessageType[] }];
      }
      case undefined:
        return [];
    }
  });
}

function toItem(m: AnyImmutableMessage): ConsumeBatchItem<ImmutableMessage> {
  if (m.type === MessageType.Txn) return { txn: { begin: m.begin, body: m.body, commit: m.commit } };
  return { single: m };
}
