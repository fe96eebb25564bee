import type { CallOptions } from '@streamsvc/common';
import type { PulsarMessageId } from './pulsar-message-id.js';

/**
 * The part of Pulsar this backend uses, as a narrow interface it owns. Two implementations: the
 * adapter over the `pulsar-client` SDK (`createSdkPulsarPort`, the only file that touches the SDK) and
 * {@link InMemoryPulsar}, a model of a broker for tests. Topics are full names
 * (`persistent://tenant/namespace/name`); ids are {@link PulsarMessageId}s built from Pulsar's
 * serialized `MessageIdData`.
 *
 * Implementations translate their native errors into `WalError`s: FENCED for a producer another
 * exclusive producer took the topic from, UNAVAILABLE for transient broker trouble, CLOSED after close.
 */
export interface PulsarPort {
  /**
   * Creates the topic's producer in `ExclusiveWithFencing` access mode: an existing producer of the
   * topic is fenced (its later sends reject with FENCED) and this one becomes the only writer.
   * @throws {WalError} FENCED when the topic is fenced against this producer; UNAVAILABLE; CLOSED.
   * Abort: rejects with the reason; a producer created meanwhile is closed (it may still have fenced the
   *   previous one).
   */
  createProducer(topic: string, options: PulsarProducerOptions, call?: CallOptions): Promise<PulsarPortProducer>;
  /**
   * Creates a non-durable reader of `topic` from `start`.
   * @throws {WalError} UNAVAILABLE; CLOSED. Abort: rejects with the reason, no reader is left open.
   */
  createReader(topic: string, start: PulsarReadStart, call?: CallOptions): Promise<PulsarPortReader>;
  /**
   * The newest message of `topic`, or undefined for a topic without messages.
   * @throws {WalError} UNAVAILABLE; CLOSED. Abort: rejects with the reason.
   */
  lastMessage(topic: string, call?: CallOptions): Promise<PulsarPortMessage | undefined>;
  /**
   * Moves the topic's truncation cursor (a durable subscription) to `id`, acknowledging everything
   * before it cumulatively, so the broker may delete whole ledgers before it (subject to the namespace's
   * retention policy). `id` itself stays readable.
   * @throws {WalError} UNAVAILABLE; CLOSED. Abort: rejects with the reason; the cursor may have moved.
   */
  truncate(topic: string, id: PulsarMessageId, call?: CallOptions): Promise<void>;
  /** Closes every producer, reader and connection. Idempotent. */
  close(): Promise<void>;
}

/** Producer settings the backend passes through. */
export interface PulsarProducerOptions {
  /** A name for broker logs and stats, e.g. `streamsvc-<pchannel>-t<term>`. */
  readonly producerName?: string;
}

/** Where a reader starts. `id` with `inclusive` delivers that message first; without, the one after it. */
export type PulsarReadStart =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'id'; readonly id: PulsarMessageId; readonly inclusive: boolean };

/** One message as read from a topic. */
export interface PulsarPortMessage {
  readonly id: PulsarMessageId;
  readonly payload: Uint8Array;
  readonly properties: Readonly<Record<string, string>>;
}

/** The exclusive producer of one topic. */
export interface PulsarPortProducer {
  /**
   * Publishes one message; resolves with its id once the broker persisted it.
   * @throws {WalError} FENCED when a newer exclusive producer took the topic; UNAVAILABLE; CLOSED.
   */
  send(payload: Uint8Array, properties: Readonly<Record<string, string>>): Promise<PulsarMessageId>;
  /** Closes the producer (pending sends finish or fail). Idempotent. */
  close(): Promise<void>;
}

/** A reader of one topic, in id order. */
export interface PulsarPortReader {
  /**
   * The next message, waiting (without polling the caller's thread) until one is published.
   * @throws {WalError} CLOSED when the reader or port closed; UNAVAILABLE.
   * Abort: rejects with the signal's reason; the reader stays usable and no message is skipped.
   */
  readNext(call?: CallOptions): Promise<PulsarPortMessage>;
  /** Closes the reader; a pending `readNext` rejects with CLOSED. Idempotent. */
  close(): Promise<void>;
}
