import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Logger } from '@streamsvc/common';
import { PropertyKey } from '@streamsvc/message';
import type { MessageId, MutableMessage } from '@streamsvc/message';
import type { AccessMode, BackendScanner, BackendWal, DeliverPolicy, ReadOptions } from '@streamsvc/wal-core';
import { outcomeUnknownOnAbort, WalError, WalErrorCode } from '@streamsvc/wal-core';
import { pulsarIdFrom } from './pulsar-message-id.js';
import type { PulsarPort, PulsarPortProducer, PulsarReadStart } from './pulsar-port.js';
import { PulsarScanner } from './pulsar-scanner.js';
import { BackendProperty } from './topic-claim.js';

/** What a handle needs from its opener. */
export interface PulsarHandleInit {
  readonly port: PulsarPort;
  readonly pchannel: string;
  readonly topic: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  /** The exclusive producer of a read-write handle; undefined for read-only handles. */
  readonly producer: PulsarPortProducer | undefined;
  readonly logger: Logger;
  readonly onClose: (handle: PulsarWalHandle) => void;
}

/**
 * A handle on one pchannel (one topic), read-write or read-only. One class for both modes so that a
 * caller who casts a read-only handle gets READ_ONLY rejections instead of a missing method.
 */
export class PulsarWalHandle implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  readonly #init: PulsarHandleInit;
  readonly #close = new CloseOnce();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #scanners = new Set<PulsarScanner>();
  #fenced: WalError | undefined;

  constructor(init: PulsarHandleInit) {
    this.#init = init;
    this.pchannel = init.pchannel;
    this.term = init.term;
    this.mode = init.mode;
  }

  /**
   * Publishes `message` (stamped with `_tt` and a last-confirmed id) through the exclusive producer:
   * payload as the Pulsar payload, properties as Pulsar message properties, plus the writer's term.
   * Resolves with the broker-assigned id once the broker persisted it.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED once a newer owner's producer fenced this one (every
   *   later append rejects FENCED at once); UNAVAILABLE (retriable) for broker trouble; INVALID_ARGUMENT
   *   for a message without `_tt`/last-confirmed id or one the broker refuses (too big).
   * Abort: before the call, rejects with the reason and nothing is sent; while the publish is in flight,
   *   rejects with OUTCOME_UNKNOWN — the message may still be persisted.
   */
  async append(message: MutableMessage, call?: CallOptions): Promise<MessageId> {
    const producer = this.#checkWritable('append', call);
    const properties = this.#properties(message);
    const send = producer.send(message.payload, properties).catch((e: unknown) => {
      if (WalError.is(e, WalErrorCode.FENCED)) this.#fenced ??= e;
      throw e;
    });
    this.#inFlight.add(send);
    const forget = (): void => void this.#inFlight.delete(send);
    send.then(forget, forget);
    return outcomeUnknownOnAbort(send, call?.signal, this.pchannel);
  }

  /**
   * Moves the topic's truncation cursor to `id`: the broker may then delete whole ledgers before it (as
   * the namespace's retention policy allows). Reads from `id` on are unaffected.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED when this handle already learned it was fenced;
   *   INVALID_MESSAGE_ID for an id of another backend; UNAVAILABLE. Abort: before the call, rejects with
   *   the reason and moves nothing; later, the cursor may or may not have moved.
   */
  async truncate(id: MessageId, call?: CallOptions): Promise<void> {
    this.#checkWritable('truncate', call);
    const pulsarId = pulsarIdFrom(id, `truncate on pchannel "${this.pchannel}"`);
    await this.#init.port.truncate(this.#init.topic, pulsarId, call);
    this.#init.logger.debug({ id: id.toString() }, 'truncation cursor moved');
  }

  /**
   * Starts a read from `options.policy`; the scanner follows the tail until closed.
   * @throws {WalError} CLOSED; INVALID_MESSAGE_ID for an id of another backend; INVALID_ARGUMENT for an
   *   unknown policy; UNAVAILABLE. Abort: the signal bounds this call only; close the scanner to stop.
   */
  async read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed(`read on pchannel "${this.pchannel}"`);
    const start = this.#start(options?.policy);
    const reader = await this.#init.port.createReader(this.#init.topic, start, call);
    if (this.#close.started) {
      await reader.close();
      throw WalError.closed(`read on pchannel "${this.pchannel}"`);
    }
    const scanner = new PulsarScanner(reader, this.#init.topic, (s) => this.#scanners.delete(s));
    this.#scanners.add(scanner);
    return scanner;
  }

  /**
   * Closes the handle: new calls reject with CLOSED, publishes already sent finish, the scanners end
   * and the producer closes. Idempotent: the same promise every time.
   */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.allSettled([...this.#inFlight]);
      await Promise.all([...this.#scanners].map((s) => s.close()));
      await this.#init.producer?.close();
      this.#init.onClose(this);
      this.#init.logger.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkWritable(op: string, call: CallOptions | undefined): PulsarPortProducer {
    const producer = this.#init.producer;
    if (this.mode !== 'rw' || producer === undefined) throw WalError.readOnly(op, this.pchannel);
    if (this.#close.started) throw WalError.closed(`${op} on pchannel "${this.pchannel}"`);
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#fenced !== undefined) {
      throw new WalError(
        WalErrorCode.FENCED,
        `${op} on pchannel "${this.pchannel}" under term ${this.term}: a newer owner's exclusive producer fenced this one`,
        { cause: this.#fenced, details: { pchannel: this.pchannel, term: this.term.toString() } },
      );
    }
    return producer;
  }

  #properties(message: MutableMessage): Record<string, string> {
    try {
      // Refuse what could be stored but never read back as an immutable message, here where the
      // caller sees why. A presence check: the properties were validated when the message was built.
      const props = message.properties;
      if (!props.has(PropertyKey.TimeTick)) throw new Error('it has no time tick (_tt)');
      if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
        throw new Error('it has no last-confirmed id (_lc or _lcs)');
      }
      return { ...Object.fromEntries(props), [BackendProperty.Term]: this.term.toString() };
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new WalError(
        WalErrorCode.INVALID_ARGUMENT,
        `append on pchannel "${this.pchannel}": the message cannot be stored: ${why}`,
        { cause },
      );
    }
  }

  #start(policy: DeliverPolicy | undefined): PulsarReadStart {
    switch (policy?.kind) {
      case 'all':
        return { kind: 'earliest' };
      case 'latest':
        return { kind: 'latest' };
      case 'startFrom':
        return {
          kind: 'id',
          id: pulsarIdFrom(policy.id, `read startFrom on pchannel "${this.pchannel}"`),
          inclusive: true,
        };
      case 'startAfter':
        return {
          kind: 'id',
          id: pulsarIdFrom(policy.id, `read startAfter on pchannel "${this.pchannel}"`),
          inclusive: false,
        };
      case undefined:
        throw new WalError(WalErrorCode.INVALID_ARGUMENT, `read on pchannel "${this.pchannel}" needs a deliver policy`);
      default:
        throw new WalError(
          WalErrorCode.INVALID_ARGUMENT,
          `read on pchannel "${this.pchannel}": unknown deliver policy ${JSON.stringify((policy as { kind: unknown }).kind)}`,
        );
    }
  }
}
