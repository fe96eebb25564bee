import { CloseOnce } from '@streamsvc/common';
import { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { pulsarMessageIds } from './pulsar-message-id.js';
import type { PulsarPortMessage, PulsarPortReader } from './pulsar-port.js';
import { BackendProperty, isBackendProperty } from './topic-claim.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Reads one topic through a port reader, in id order, following the tail until closed. Term markers
 * are skipped; the backend's own properties are stripped before the message is rebuilt.
 */
export class PulsarScanner implements BackendScanner, AsyncIterableIterator<ImmutableMessage> {
  readonly #reader: PulsarPortReader;
  readonly #topic: string;
  readonly #onClose: (scanner: PulsarScanner) => void;
  readonly #close = new CloseOnce();
  readonly #stop = new AbortController();
  // next() calls are chained: the iterator protocol allows overlapping calls, each must follow the last.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(reader: PulsarPortReader, topic: string, onClose: (scanner: PulsarScanner) => void) {
    this.#reader = reader;
    this.#topic = topic;
    this.#onClose = onClose;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next record; waits at the tail until one is published or the scanner closes.
   * @throws {WalError} CORRUPT for a stored message that cannot be rebuilt; UNAVAILABLE from the broker.
   */
  next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    const result = this.#queue.then(() => this.#next());
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Ends the iteration (called by `break` in `for await`). */
  async return(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    await this.close();
    return DONE;
  }

  /** Ends the iteration: a pending `next()` resolves done, and so does every later one. Idempotent. */
  close(): Promise<void> {
    // Synchronous first step, so that a next() racing with close() sees the closed state at once.
    if (!this.#close.started) this.#stop.abort();
    return this.#close.run(async () => {
      this.#onClose(this);
      await this.#reader.close();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    // Each turn consumes one message; markers are rare (one per read-write open).
    for (;;) {
      if (this.#stop.signal.aborted) return DONE;
      let message: PulsarPortMessage;
      try {
        message = await this.#reader.readNext({ signal: this.#stop.signal });
      } catch (e) {
        if (this.#stop.signal.aborted || WalError.is(e, WalErrorCode.CLOSED)) return DONE;
        throw e;
      }
      if (message.properties[BackendProperty.Marker] !== undefined) continue;
      return { done: false, value: this.#rebuild(message) };
    }
  }

  #rebuild(message: PulsarPortMessage): ImmutableMessage {
    try {
      const properties = new Map(Object.entries(message.properties).filter(([key]) => !isBackendProperty(key)));
      return ImmutableMessage.fromEnvelope({ payload: message.payload, properties }, message.id, pulsarMessageIds);
    } catch (cause) {
      throw new WalError(
        WalErrorCode.CORRUPT,
        `message ${message.id.toString()} of topic "${this.#topic}" cannot be rebuilt as a streamsvc message`,
        { cause, details: { topic: this.#topic, id: message.id.toString() } },
      );
    }
  }
}
