import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import type { MessageIdCodecs } from '@streamsvc/message';
import type {
  ConsumedMessage,
  ConsumeRequest,
  ConsumeResponse,
  StreamingNodeHandlerServiceClient,
} from '@streamsvc/proto';

import type { DeliverRequest } from './deliver.js';
import { errorFromWire, toStreamingError } from './errors.js';
import type { PChannelAssignment } from './topology.js';

type ConsumeCall = ClientDuplexStream<ConsumeRequest, ConsumeResponse>;

/** What one consumer stream needs. */
export interface ConsumerStreamOptions {
  readonly client: StreamingNodeHandlerServiceClient;
  readonly assignment: PChannelAssignment;
  readonly vchannel: string;
  readonly deliver: DeliverRequest;
  readonly includeTimeTicks: boolean;
  readonly idCodecs: MessageIdCodecs;
  readonly logger: Logger;
  readonly createTimeoutMs: number;
}

/**
 * One `Consume` stream: create, then batches of messages pulled one response at a time. Reading is
 * pull-based — a response is taken from grpc-js only when {@link next} is called — so when the caller
 * stops, grpc-js stops reading and HTTP/2 flow control holds the server back: at most grpc-js's small
 * object buffer (16 responses) plus the stream's flow-control window sit in this process.
 */
export class ConsumerStream {
  readonly assignment: PChannelAssignment;
  readonly #call: ConsumeCall;
  readonly #where: string;
  #walName = '';
  #failure: StreamingError | undefined;
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(options: ConsumerStreamOptions) {
    this.assignment = options.assignment;
    this.#where = `${options.assignment.node.address} (${options.assignment.pchannel}@t${options.assignment.term})`;
    this.#call = options.client.consume();
    this.#call.on('readable', () => this.#signal());
    this.#call.on('error', (e: Error) => {
      this.#failure ??= toStreamingError(e, `consumer stream to ${this.#where}`);
      this.#signal();
    });
    this.#call.on('status', () => {
      this.#ended = true;
      this.#signal();
    });
    this.#call.on('end', () => {
      this.#ended = true;
      this.#signal();
    });
  }

  /**
   * Opens a consumer stream and waits for the node to accept it.
   * @throws StreamingError what the node answered in `close { error }`, a transport error, INNER after
   *   `createTimeoutMs`, UNKNOWN for a WAL without a message-id codec here.
   */
  static async open(options: ConsumerStreamOptions): Promise<ConsumerStream> {
    const stream = new ConsumerStream(options);
    const { pchannel, term } = options.assignment;
    stream.#call.write({
      request: {
        $case: 'create',
        create: {
          pchannel,
          term,
          vchannel: options.vchannel,
          deliverPolicy: options.deliver.deliverPolicy,
          deliverFilters: options.deliver.deliverFilters,
          includeTimeTicks: options.includeTimeTicks,
        },
      },
    });
    const timer = setTimeout(() => {
      stream.#failure ??= new StreamingError(
        'INNER',
        `${stream.#where} did not answer create-consumer in ${options.createTimeoutMs} ms`,
      );
      stream.#signal();
    }, options.createTimeoutMs);
    try {
      const first = await stream.#read();
      if (first.response?.$case === 'close') {
        // The node refused the consumer (the WAL is not open here yet, it moved, the node is stopping):
        // its code decides whether the subscription retries.
        const error = first.response.close.error;
        throw error === undefined
          ? new StreamingError('ON_SHUTDOWN', `${stream.#where} closed the consumer stream before create`)
          : errorFromWire(error, `consumer stream to ${stream.#where}`);
      }
      if (first.response?.$case !== 'create') {
        throw new StreamingError('INVALID_REQUEST_SEQ', `${stream.#where} sent ${first.response?.$case} before create`);
      }
      const walName = first.response.create.walName;
      if (!options.idCodecs.has(walName)) {
        const known = options.idCodecs.walNames.join(', ') || '(none)';
        throw new StreamingError(
          'UNKNOWN',
          `${stream.#where} runs wal "${walName}", which has no message-id codec in this client (known: ${known}); pass idCodecs`,
          { retriable: false },
        );
      }
      stream.#walName = walName;
      options.logger.debug(
        { pchannel, vchannel: options.vchannel, node: options.assignment.node.address, walName },
        'consumer stream created',
      );
      return stream;
    } catch (e) {
      stream.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The WAL backend of the node, as it said in its create answer. */
  get walName(): string {
    return this.#walName;
  }

  /**
   * The next batch of messages, in time-tick order.
   * @throws StreamingError when the stream ends: the node's `close { error }`, a transport error, or a
   *   retriable INNER when it ended without saying why.
   */
  async next(): Promise<readonly ConsumedMessage[]> {
    for (;;) {
      const response = await this.#read();
      const r = response.response;
      switch (r?.$case) {
        case 'messages':
          if (r.messages.messages.length > 0) return r.messages.messages;
          continue;
        case 'close':
          throw r.close.error === undefined
            ? new StreamingError('ON_SHUTDOWN', `${this.#where} closed the consumer stream`)
            : errorFromWire(r.close.error, `consumer stream to ${this.#where}`);
        case 'create':
          throw new StreamingError('INVALID_REQUEST_SEQ', `${this.#where} answered create twice`);
        case undefined:
          continue;
      }
    }
  }

  /** Cancels the stream (pending and later reads fail). Idempotent. */
  close(): void {
    this.#failure ??= new StreamingError('INNER', `the consumer stream to ${this.#where} was closed`);
    this.#call.cancel();
    this.#signal();
  }

  /** Takes one response; waits for grpc-js to have one. */
  async #read(): Promise<ConsumeResponse> {
    for (;;) {
      // Responses already received are delivered before a failure: they are valid, and resuming after
      // them saves the server work.
      const response = this.#call.read() as ConsumeResponse | null;
      if (response !== null) return response;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) {
        throw new StreamingError('INNER', `the consumer stream to ${this.#where} ended without a close message`);
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
