import type { BroadcastHeader, TxnContext } from './gen/streamsvc/message/v1/envelope.js';
import { MessageError } from './message-error.js';
import { specOf } from './message-specs.js';
import type { MessageBody, MessageHeader, WritableMessageType } from './message-specs.js';
import { messageTypeName } from './message-type.js';
import type { MessageTypeName } from './message-type.js';
import { isReservedPropertyKey, PropertyKey } from './property-keys.js';
import { decodeBase64 } from './property-values.js';
import { describeKey, readBroadcastHeader, readTxnContext, readUint64 } from './system-properties.js';

/**
 * The storable form of a message: payload bytes plus string properties. Backends that keep properties
 * natively (Kafka headers, Woodpecker entry properties) store exactly this and rebuild messages with
 * `MutableMessage.fromEnvelope` / `ImmutableMessage.fromEnvelope`.
 */
export interface MessageEnvelope {
  readonly payload: Uint8Array;
  readonly properties: ReadonlyMap<string, string>;
}

/**
 * What every message class shares: typed reads of the envelope. Subclasses decide which properties may
 * still change (mutable) and which must be present (immutable).
 */
export abstract class MessageBase<T extends WritableMessageType> implements MessageEnvelope {
  /** The body bytes: the body's protobuf encoding, or the user's bytes for `Data`. Do not mutate. */
  readonly payload: Uint8Array;
  /** The message type (the `_t` property). */
  readonly type: T;
  /**
   * Never a caller's map, so set-once checks cannot be bypassed by aliasing. A mutable message may share
   * it with the immutable messages and snapshots taken from it, and copies it before its next change
   * (see `MutableMessage`); writes therefore go through {@link writableProps}.
   */
  protected props: Map<string, string>;
  #header: MessageHeader<T> | undefined;
  #body: { readonly value: MessageBody<T> } | undefined;
  #userProperties: ReadonlyMap<string, string> | undefined;
  /** Cached {@link estimateSize}: kept up to date by `setOnce`, dropped by other property changes. */
  #size: number | undefined;

  /** Wraps an already validated envelope; `props` must be a private copy. */
  protected constructor(payload: Uint8Array, props: Map<string, string>, type: T) {
    this.payload = payload;
    this.props = props;
    this.type = type;
  }

  /** Every property, system and user, as stored. Read-only: use the typed accessors and `with*` methods. */
  get properties(): ReadonlyMap<string, string> {
    return this.props;
  }

  /** The type's name, e.g. `'Insert'`, for logs. */
  get typeName(): MessageTypeName {
    return messageTypeName(this.type);
  }

  /** The vchannel (`_vc`); undefined means every vchannel of the pchannel (TimeTick) or a broadcast. */
  get vchannel(): string | undefined {
    return this.props.get(PropertyKey.VChannel);
  }

  /**
   * The typed header, decoded from `_h` on first access and cached. Treat it as read-only: the WAL changes
   * headers through `MutableMessage.overwriteHeader`, which keeps `_h` in step.
   */
  get header(): MessageHeader<T> {
    if (this.#header === undefined) {
      const spec = specOf(this.type);
      const bytes = decodeBase64(this.props.get(PropertyKey.Header) ?? '', describeKey(PropertyKey.Header));
      this.#header = decodePart(() => spec.header.decode(bytes), `${this.typeName} header`);
    }
    return this.#header;
  }

  /**
   * The typed body, decoded from the payload on first access and cached (for `Data`: the payload itself).
   * Decoding is lazy because the WAL routes messages without ever looking at bodies.
   * @throws MessageError `INVALID_MESSAGE` when the payload is not a valid body of this type.
   */
  get body(): MessageBody<T> {
    if (this.#body === undefined) {
      const spec = specOf(this.type);
      this.#body = { value: decodePart(() => spec.body.decode(this.payload), `${this.typeName} body`) };
    }
    return this.#body.value;
  }

  /** The properties set by the user (keys without `_`). */
  get userProperties(): ReadonlyMap<string, string> {
    this.#userProperties ??= new Map([...this.props].filter(([key]) => !isReservedPropertyKey(key)));
    return this.#userProperties;
  }

  /** The transaction this message belongs to (`_tx`), if any. */
  get txnContext(): TxnContext | undefined {
    return readTxnContext(this.props);
  }

  /** The broadcast header (`_bh`), on broadcasts and on the per-vchannel messages split from one. */
  get broadcastHeader(): BroadcastHeader | undefined {
    return readBroadcastHeader(this.props);
  }

  /** The WAL term the message was appended under (`_wt`), once the WAL has set it. */
  get walTerm(): bigint | undefined {
    return readUint64(this.props, PropertyKey.WalTerm);
  }

  /** The barrier time tick (`_btt`): the WAL must assign a tt strictly greater than this. */
  get barrierTimeTick(): bigint | undefined {
    return readUint64(this.props, PropertyKey.BarrierTimeTick);
  }

  /** True for an in-memory TimeTick that was never written to the backend (`_np`). */
  get notPersisted(): boolean {
    return this.props.has(PropertyKey.NotPersisted);
  }

  /**
   * Approximate bytes this message occupies: payload plus UTF-8 lengths of every property key and value.
   * This is what the size limit is checked against.
   */
  estimateSize(): number {
    if (this.#size === undefined) {
      let size = this.payload.byteLength;
      this.props.forEach((value, key) => (size += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8')));
      this.#size = size;
    }
    return this.#size;
  }

  /** The size computed by {@link estimateSize} so far (a copy of this message may start from it). */
  protected get knownSize(): number | undefined {
    return this.#size;
  }

  protected set knownSize(size: number | undefined) {
    this.#size = size;
  }

  /** Sets or replaces a property (no set-once check) and forgets the cached size. */
  protected setProperty(key: string, value: string): void {
    this.writableProps().set(key, value);
    this.#size = undefined;
  }

  /** The property map to change: subclasses that share their map copy it first. */
  protected writableProps(): Map<string, string> {
    return this.props;
  }

  /** Drops the cached header (and size) so the next access decodes the new `_h`. */
  protected forgetHeader(): void {
    this.#header = undefined;
    this.#size = undefined;
  }

  /**
   * Sets a set-once system property.
   * @throws MessageError `PROPERTY_ALREADY_SET` when `key` (or a key it excludes) already has a value.
   */
  protected setOnce(key: string, value: string, excludes?: string): void {
    const existing = this.props.get(key);
    if (existing !== undefined) {
      throw new MessageError(
        'PROPERTY_ALREADY_SET',
        `${describeKey(key)} is already set on this ${this.typeName} message (to ${JSON.stringify(existing)}); it can be set only once`,
        { details: { key, type: this.typeName } },
      );
    }
    if (excludes !== undefined && this.props.has(excludes)) {
      throw new MessageError(
        'PROPERTY_ALREADY_SET',
        `${key} cannot be set on this ${this.typeName} message because ${excludes} is already set; a message has one last-confirmed id`,
        { details: { key, type: this.typeName } },
      );
    }
    this.writableProps().set(key, value);
    if (this.#size !== undefined) this.#size += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
}

function decodePart<V>(decode: () => V, what: string): V {
  try {
    return decode();
  } catch (cause) {
    throw new MessageError('INVALID_MESSAGE', `${what} holds corrupt protobuf bytes`, { cause });
  }
}
