import { TxnContext as TxnContextPb } from './gen/streamsvc/message/v1/envelope.js';
import type { TxnContext } from './gen/streamsvc/message/v1/envelope.js';
import { ImmutableMessage, resolveLastConfirmed } from './immutable-message.js';
import type { Internal } from './internal.js';
import { checkInternal, INTERNAL } from './internal.js';
import { MessageBase } from './message-base.js';
import type { MessageEnvelope } from './message-base.js';
import { MessageError } from './message-error.js';
import type { MessageId, MessageIdCodec } from './message-id.js';
import { specOf } from './message-specs.js';
import type { HeaderInit, WritableMessageType } from './message-specs.js';
import { isTxnBodyMessageType, MessageType } from './message-type.js';
import { PropertyKey } from './property-keys.js';
import { checkUint64, encodeBase36, encodeBase64 } from './property-values.js';
import { readUint64, validateEnvelope, writeProto } from './system-properties.js';

/** The last term stamped and its text: a WAL stamps the same term on every message. */
let lastTerm: { readonly value: bigint | undefined; readonly text: string } = { value: undefined, text: '' };

/** Input of {@link MutableMessage.withTxnContext}: keepalive defaults to 0 (the server's default). */
export interface TxnContextInit {
  readonly txnId: bigint;
  readonly keepaliveMs?: number;
}

const TXN_CONTROL: ReadonlySet<number> = new Set([
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
]);

/**
 * A message on its way into a WAL. Builders make it; the WAL stamps it (`withTimeTick`, `withWalTerm`,
 * `withLastConfirmed`, ...) and turns it into an {@link ImmutableMessage} once the backend returns an id.
 *
 * The `with*` methods change this message in place and return it, like Milvus's mutable message; each
 * sets a system property that may be set only once, so a stamp can never be silently replaced. Code that
 * may retry with a new stamp (the WAL's redo loop) stamps a {@link clone}.
 */
export class MutableMessage<T extends WritableMessageType = WritableMessageType> extends MessageBase<T> {
  #lastConfirmed: MessageId | undefined;
  /** The time tick set by {@link withTimeTick}, kept so nothing parses `_tt` back on the append path. */
  #timeTick: bigint | undefined;
  /**
   * True while `props` is also the property map of an immutable message or a snapshot taken from this
   * one: the next change copies it first (copy-on-write), so what was handed out never changes. The
   * append path hands the map out twice per message (backend snapshot, immutable form) and changes it
   * never again, so the copies it used to make for safety were pure garbage.
   */
  #shared = false;

  /** Not for outside use: mutable messages come from `MessageBuilder` or {@link MutableMessage.fromEnvelope}. */
  constructor(token: Internal, payload: Uint8Array, props: Map<string, string>, type: T) {
    super(payload, props, type);
    checkInternal(token, 'MutableMessage');
  }

  /**
   * Rebuilds a message from its envelope (e.g. as a backend stored it, or as received from a client).
   * The properties are copied; the payload is kept as given.
   * @throws MessageError `INVALID_MESSAGE` (missing/corrupt system property, missing vchannel, a broadcast
   *   envelope), `UNKNOWN_MESSAGE_TYPE`, `INVALID_CHANNEL_NAME`.
   */
  static fromEnvelope(envelope: MessageEnvelope): MutableMessage {
    const props = new Map(envelope.properties);
    const type = validateEnvelope(props, 'mutable');
    return new MutableMessage(INTERNAL, envelope.payload, props, type);
  }

  /** The time tick (`_tt`), once the WAL has assigned one. */
  get timeTick(): bigint | undefined {
    return this.#timeTick ?? readUint64(this.props, PropertyKey.TimeTick);
  }

  /** Narrows this message to type `type` when it has that type. */
  is<K extends WritableMessageType>(type: K): this is MutableMessage<K> {
    return (this.type as WritableMessageType) === type;
  }

  /** An independent copy with the same payload and properties (stamps included). */
  clone(): MutableMessage<T> {
    const copy = new MutableMessage(INTERNAL, this.payload, new Map(this.props), this.type);
    copy.#lastConfirmed = this.#lastConfirmed;
    copy.#timeTick = this.#timeTick;
    copy.knownSize = this.knownSize;
    return copy;
  }

  /**
   * The message as it is now — payload and properties — for a backend to keep. Later changes to this
   * message do not reach the snapshot (they copy the properties first); the payload is shared, as
   * payloads are never mutated. Cheaper than copying the properties on every append.
   */
  snapshot(): MessageEnvelope {
    this.#shared = true;
    return { payload: this.payload, properties: this.props };
  }

  protected override writableProps(): Map<string, string> {
    if (this.#shared) {
      this.props = new Map(this.props);
      this.#shared = false;
    }
    return this.props;
  }

  /**
   * Sets the time tick (`_tt`). WAL-side.
   * @throws MessageError `PROPERTY_ALREADY_SET` when already set; `INVALID_MESSAGE` when `tt` is not a uint64.
   */
  withTimeTick(tt: bigint): this {
    this.setOnce(PropertyKey.TimeTick, encodeBase36(tt, 'time tick'));
    this.#timeTick = tt;
    return this;
  }

  /**
   * Sets the WAL term the message is appended under (`_wt`). WAL-side.
   * @throws MessageError `PROPERTY_ALREADY_SET` when already set; `INVALID_MESSAGE` when `term` is not positive.
   */
  withWalTerm(term: bigint): this {
    if (term !== lastTerm.value) {
      checkUint64(term, 'wal term');
      if (term < 1n) throw new MessageError('INVALID_MESSAGE', `wal term must be positive, got ${term}`);
      lastTerm = { value: term, text: encodeBase36(term, 'wal term') };
    }
    this.setOnce(PropertyKey.WalTerm, lastTerm.text);
    return this;
  }

  /**
   * Sets the last-confirmed id (`_lc`, stored as the id's string form). WAL-side.
   * @throws MessageError `PROPERTY_ALREADY_SET` when `_lc` or `_lcs` is already set.
   */
  withLastConfirmed(id: MessageId): this {
    this.setOnce(PropertyKey.LastConfirmed, id.toString(), PropertyKey.LastConfirmedSelf);
    this.#lastConfirmed = id;
    return this;
  }

  /**
   * Marks the message as its own last-confirmed id (`_lcs`): used for the first message written after a
   * WAL opens, when nothing earlier is known to be confirmed. WAL-side.
   * @throws MessageError `PROPERTY_ALREADY_SET` when `_lc` or `_lcs` is already set.
   */
  withLastConfirmedSelf(): this {
    this.setOnce(PropertyKey.LastConfirmedSelf, '', PropertyKey.LastConfirmed);
    return this;
  }

  /**
   * Attaches the transaction context (`_tx`). Allowed on txn bodies (Insert, Delete, Data) and on
   * BeginTxn/CommitTxn/RollbackTxn.
   * @throws MessageError `PROPERTY_ALREADY_SET` when already set; `INVALID_MESSAGE` for another type or a
   *   txn id / keepalive out of range.
   */
  withTxnContext(context: TxnContextInit): this {
    if (!isTxnBodyMessageType(this.type) && !TXN_CONTROL.has(this.type)) {
      throw new MessageError('INVALID_MESSAGE', `${this.typeName} messages cannot be part of a transaction`);
    }
    const keepaliveMs = context.keepaliveMs ?? 0;
    if (typeof context.txnId !== 'bigint' || context.txnId < 0n || context.txnId >= 1n << 63n) {
      throw new MessageError('INVALID_MESSAGE', `txn id ${String(context.txnId)} is outside [0, 2^63-1]`);
    }
    if (!Number.isSafeInteger(keepaliveMs) || keepaliveMs < 0) {
      throw new MessageError('INVALID_MESSAGE', `txn keepalive ${keepaliveMs} ms is not a non-negative integer`);
    }
    const value: TxnContext = { txnId: context.txnId, keepaliveMs };
    this.setOnce(PropertyKey.TxnContext, writeProto(TxnContextPb, value));
    return this;
  }

  /**
   * Sets the barrier time tick (`_btt`): the WAL must give this message a tt strictly greater.
   * @throws MessageError `PROPERTY_ALREADY_SET` when already set; `INVALID_MESSAGE` when `tt` is not a uint64.
   */
  withBarrierTimeTick(tt: bigint): this {
    this.setOnce(PropertyKey.BarrierTimeTick, encodeBase36(tt, 'barrier time tick'));
    return this;
  }

  /**
   * Marks a TimeTick as kept in memory only (`_np`): the WAL did not write it to the backend.
   * @throws MessageError `PROPERTY_ALREADY_SET` when already set; `INVALID_MESSAGE` for other types.
   */
  withNotPersisted(): this {
    if (this.type !== MessageType.TimeTick) {
      throw new MessageError('INVALID_MESSAGE', `only TimeTick messages can be not-persisted, not ${this.typeName}`);
    }
    this.setOnce(PropertyKey.NotPersisted, '');
    return this;
  }

  /**
   * Replaces the header (`_h`). WAL-side, for the fields the WAL fills in: the segment of each Insert
   * partition, the segments a ManualFlush sealed. Unlike the stamps this may happen more than once.
   * @throws MessageError `INVALID_MESSAGE` when the header cannot be encoded.
   */
  overwriteHeader(header: HeaderInit<T>): this {
    const spec = specOf(this.type);
    let bytes: Uint8Array;
    try {
      bytes = spec.header.encode(spec.header.normalize(header));
    } catch (cause) {
      throw new MessageError('INVALID_MESSAGE', `${this.typeName} header is invalid: ${String(cause)}`, { cause });
    }
    this.setProperty(PropertyKey.Header, encodeBase64(bytes));
    this.forgetHeader();
    return this;
  }

  /**
   * The immutable form of this message once the backend stored it at `id`. Later changes to this object
   * do not leak into the result (they copy the properties first; see {@link snapshot}).
   *
   * `codec` is needed only when `_lc` was not set in this process (the message came from an envelope).
   * @throws MessageError `INVALID_MESSAGE` without a time tick or last-confirmed id; `WAL_MISMATCH` when
   *   `id`, the last-confirmed id or `codec` belong to different WALs.
   */
  intoImmutable(id: MessageId, codec?: MessageIdCodec): ImmutableMessage<T> {
    const lastConfirmed = resolveLastConfirmed(this.props, id, this.#lastConfirmed, codec, this.typeName);
    this.#shared = true;
    return new ImmutableMessage(
      INTERNAL,
      { payload: this.payload, props: this.props, type: this.type, timeTick: this.#timeTick, size: this.knownSize },
      id,
      lastConfirmed,
    );
  }
}
