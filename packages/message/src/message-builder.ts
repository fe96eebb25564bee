import { BroadcastMutableMessage } from './broadcast-message.js';
import { parseVChannel } from './channel-names.js';
import { BroadcastHeader as BroadcastHeaderPb } from './gen/streamsvc/message/v1/envelope.js';
import type { ResourceDomain } from './data-type.js';
import { checkInternal, INTERNAL } from './internal.js';
import type { Internal } from './internal.js';
import { MessageError } from './message-error.js';
import { isWritableMessageType, specOf } from './message-specs.js';
import type { BodyInit, HeaderInit, WritableMessageType } from './message-specs.js';
import {
  isSelfControlledMessageType,
  isSystemMessageType,
  MessageType,
  messageTypeName,
  parseMessageType,
} from './message-type.js';
import { MutableMessage } from './mutable-message.js';
import { checkUserProperties, MESSAGE_VERSION, PropertyKey } from './property-keys.js';
import type { UserProperties } from './property-keys.js';
import { encodeBase64 } from './property-values.js';
import { writeProto } from './system-properties.js';

/** The default message size limit: 2 MiB, Milvus's `pulsar.maxMessageSize` used for every backend. */
export const DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** Options of `build()`. */
export interface BuildOptions {
  /** Size limit in bytes (payload + properties); default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxBytes?: number;
}

/** A resource a broadcast locks; `shared` defaults to false (exclusive). */
export interface ResourceKeyInit {
  readonly domain: ResourceDomain;
  readonly key: string;
  readonly shared?: boolean;
}

/** Options of {@link MessageBuilder.broadcast}. */
export interface BroadcastOptions {
  /** Resources the broadcaster locks while the message is applied, so conflicting DDL serialises. */
  readonly resourceKeys?: readonly ResourceKeyInit[];
}

/** What both builders share: type, header, body, user properties and the checks of `build()`. */
abstract class BuilderBase<T extends WritableMessageType> {
  /** The type of message this builder makes. */
  readonly type: T;
  protected headerInit: HeaderInit<T> | undefined;
  protected bodyInit: BodyInit<T> | undefined;
  protected userProps: [string, string][] = [];

  protected constructor(type: T) {
    this.type = type;
  }

  /** Sets the typed header. Fields left out take their protobuf zero value. */
  header(header: HeaderInit<T>): this {
    this.headerInit = header;
    return this;
  }

  /** Sets the typed body (for `Data`: the payload bytes, used as given, not copied). */
  body(body: BodyInit<T>): this {
    this.bodyInit = body;
    return this;
  }

  /**
   * Adds user properties (merged with earlier calls; later values win).
   * @throws MessageError `RESERVED_PROPERTY` for a key starting with `_`; `INVALID_MESSAGE` for an empty
   *   key or a non-string value.
   */
  properties(properties: UserProperties): this {
    this.userProps.push(...checkUserProperties(properties));
    return this;
  }

  /** Encodes header and body and checks everything but the routing properties. */
  protected assemble(
    routing: readonly [string, string][],
    options: BuildOptions,
  ): { payload: Uint8Array; props: Map<string, string> } {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new MessageError('INVALID_MESSAGE', `maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const spec = specOf(this.type);
    const name = messageTypeName(this.type);
    if (this.headerInit === undefined && !spec.headerOptional) throw missing(name, 'header', 'header');
    if (this.bodyInit === undefined && !spec.bodyOptional) throw missing(name, 'body', 'body');
    let headerBytes: Uint8Array;
    let payload: Uint8Array;
    try {
      const header = spec.header.normalize(this.headerInit ?? ({} as HeaderInit<T>));
      const body = spec.body.normalize(this.bodyInit ?? ({} as BodyInit<T>));
      const problem = spec.validate?.(header, body);
      if (problem !== undefined) throw new MessageError('INVALID_MESSAGE', problem);
      headerBytes = spec.header.encode(header);
      payload = spec.body.encode(body);
    } catch (cause) {
      if (MessageError.is(cause)) throw cause;
      // fromPartial/encode throw plain errors (BigInt of a fraction, uint64 overflow, a string where bytes belong).
      throw new MessageError('INVALID_MESSAGE', `${name} header or body is invalid: ${String(cause)}`, { cause });
    }
    const props = new Map<string, string>([
      [PropertyKey.Version, String(MESSAGE_VERSION)],
      [PropertyKey.MessageType, String(this.type)],
      // An empty header (every Data message) needs no base64 round trip.
      [PropertyKey.Header, headerBytes.byteLength === 0 ? '' : encodeBase64(headerBytes)],
      ...routing,
      ...this.userProps,
    ]);
    let size = payload.byteLength;
    for (const [k, v] of props) size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (size > maxBytes) {
      throw new MessageError(
        'MESSAGE_TOO_LARGE',
        `${name} message is ${size} bytes (payload ${payload.byteLength}), over the limit of ${maxBytes} bytes; split large inserts into a transaction`,
        { details: { type: name, sizeBytes: size, maxBytes } },
      );
    }
    return { payload, props };
  }
}

/**
 * Builds a {@link MutableMessage} of one type: `MessageBuilder.insert().header(h).body(b).vchannel(v).build()`.
 * Typed builders, not property maps, are how messages are made: the builder encodes header and body,
 * sets the system properties and checks the result.
 */
export class MessageBuilder<T extends WritableMessageType> extends BuilderBase<T> {
  #vchannel: string | undefined;

  private constructor(type: T) {
    super(type);
  }

  /**
   * A builder for any writable type, by number or name.
   * @throws MessageError `UNKNOWN_MESSAGE_TYPE` for an unknown type; `INVALID_MESSAGE` for `Txn`, which
   *   readers assemble and nobody writes.
   */
  static of<K extends WritableMessageType>(type: K): MessageBuilder<K>;
  static of(type: number | string): MessageBuilder<WritableMessageType>;
  static of(type: number | string): MessageBuilder<WritableMessageType> {
    const t = parseMessageType(type);
    if (!isWritableMessageType(t))
      throw new MessageError('INVALID_MESSAGE', 'Txn messages are assembled by readers and cannot be built');
    return new MessageBuilder(t);
  }

  /** A TimeTick builder (WAL-side; the vchannel is optional). */
  static timeTick(): MessageBuilder<typeof MessageType.TimeTick> {
    return new MessageBuilder(MessageType.TimeTick);
  }
  /** An Insert builder: header `{collectionId, partitions}`, body `{fields, numRows}`. */
  static insert(): MessageBuilder<typeof MessageType.Insert> {
    return new MessageBuilder(MessageType.Insert);
  }
  /** A Delete builder: header `{collectionId, rows}`, body `{primaryKeys, partitionId}`. */
  static delete(): MessageBuilder<typeof MessageType.Delete> {
    return new MessageBuilder(MessageType.Delete);
  }
  /** A Flush builder (WAL-side): header `{collectionId, partitionId, segmentId}`. */
  static flush(): MessageBuilder<typeof MessageType.Flush> {
    return new MessageBuilder(MessageType.Flush);
  }
  /** A CreateCollection builder: header `{collectionId, partitionIds}`, body `{collectionName, schema, ...}`. */
  static createCollection(): MessageBuilder<typeof MessageType.CreateCollection> {
    return new MessageBuilder(MessageType.CreateCollection);
  }
  /** A DropCollection builder: header `{collectionId}`. */
  static dropCollection(): MessageBuilder<typeof MessageType.DropCollection> {
    return new MessageBuilder(MessageType.DropCollection);
  }
  /** A CreatePartition builder: header `{collectionId, partitionId}`. */
  static createPartition(): MessageBuilder<typeof MessageType.CreatePartition> {
    return new MessageBuilder(MessageType.CreatePartition);
  }
  /** A DropPartition builder: header `{collectionId, partitionId}`. */
  static dropPartition(): MessageBuilder<typeof MessageType.DropPartition> {
    return new MessageBuilder(MessageType.DropPartition);
  }
  /** A ManualFlush builder: header `{collectionId, flushTs}` (the WAL fills `segmentIds`). */
  static manualFlush(): MessageBuilder<typeof MessageType.ManualFlush> {
    return new MessageBuilder(MessageType.ManualFlush);
  }
  /** A CreateSegment builder (WAL-side): header `{collectionId, partitionId, segmentId, ...}`. */
  static createSegment(): MessageBuilder<typeof MessageType.CreateSegment> {
    return new MessageBuilder(MessageType.CreateSegment);
  }
  /** An Import builder: header `{collectionId}`, body `{jobId, partitionIds, files, options}`. */
  static import(): MessageBuilder<typeof MessageType.Import> {
    return new MessageBuilder(MessageType.Import);
  }
  /** A SchemaChange builder: header `{collectionId}`, body `{schema}`. */
  static schemaChange(): MessageBuilder<typeof MessageType.SchemaChange> {
    return new MessageBuilder(MessageType.SchemaChange);
  }
  /** A Data builder whose body is `payload`, the user's bytes, stored untouched. */
  static data(payload: Uint8Array): MessageBuilder<typeof MessageType.Data> {
    return new MessageBuilder(MessageType.Data).body(payload);
  }
  /** A BeginTxn builder: header `{keepaliveMs}` (0 = the server's default). */
  static beginTxn(): MessageBuilder<typeof MessageType.BeginTxn> {
    return new MessageBuilder(MessageType.BeginTxn);
  }
  /** A CommitTxn builder. */
  static commitTxn(): MessageBuilder<typeof MessageType.CommitTxn> {
    return new MessageBuilder(MessageType.CommitTxn);
  }
  /** A RollbackTxn builder. */
  static rollbackTxn(): MessageBuilder<typeof MessageType.RollbackTxn> {
    return new MessageBuilder(MessageType.RollbackTxn);
  }

  /**
   * Sets the vchannel the message is appended to.
   * @throws MessageError `INVALID_CHANNEL_NAME` when `name` is not a vchannel name.
   */
  vchannel(name: string): this {
    parseVChannel(name);
    this.#vchannel = name;
    return this;
  }

  /**
   * Turns this into a broadcast to `vchannels` (header, body and properties carry over).
   * @throws MessageError `INVALID_MESSAGE` for a type that cannot be broadcast (system and WAL-only types),
   *   after `vchannel()`, or for an empty or repeated vchannel list; `INVALID_CHANNEL_NAME` for a bad name.
   */
  broadcast(vchannels: readonly string[], options: BroadcastOptions = {}): BroadcastMessageBuilder<T> {
    const name = messageTypeName(this.type);
    if (isSystemMessageType(this.type) || isSelfControlledMessageType(this.type)) {
      throw new MessageError('INVALID_MESSAGE', `${name} messages cannot be broadcast`);
    }
    if (this.#vchannel !== undefined) {
      throw new MessageError(
        'INVALID_MESSAGE',
        `a broadcast lists its vchannels in broadcast(), but vchannel(${this.#vchannel}) was also called`,
      );
    }
    if (vchannels.length === 0) throw new MessageError('INVALID_MESSAGE', `${name} broadcast has no vchannels`);
    const seen = new Set<string>();
    for (const v of vchannels) {
      parseVChannel(v);
      if (seen.has(v)) throw new MessageError('INVALID_MESSAGE', `${name} broadcast lists vchannel ${v} twice`);
      seen.add(v);
    }
    const parts = { headerInit: this.headerInit, bodyInit: this.bodyInit, userProps: [...this.userProps] };
    return new BroadcastMessageBuilder(INTERNAL, this.type, parts, [...vchannels], options.resourceKeys ?? []);
  }

  /**
   * Builds the message.
   * @throws MessageError `INVALID_MESSAGE` when the header, body (unless the type has none) or vchannel
   *   (unless TimeTick) is missing or they fail the type's checks; `MESSAGE_TOO_LARGE` naming the size and
   *   the limit.
   */
  build(options: BuildOptions = {}): MutableMessage<T> {
    if (this.#vchannel === undefined && this.type !== MessageType.TimeTick) {
      throw new MessageError(
        'INVALID_MESSAGE',
        `${messageTypeName(this.type)} message has no vchannel; call .vchannel() or .broadcast()`,
      );
    }
    const routing: [string, string][] = this.#vchannel === undefined ? [] : [[PropertyKey.VChannel, this.#vchannel]];
    const { payload, props } = this.assemble(routing, options);
    return new MutableMessage(INTERNAL, payload, props, this.type);
  }
}

/** Builds a {@link BroadcastMutableMessage}; made by {@link MessageBuilder.broadcast}. */
export class BroadcastMessageBuilder<T extends WritableMessageType> extends BuilderBase<T> {
  readonly #vchannels: string[];
  readonly #resourceKeys: readonly ResourceKeyInit[];

  /** Not for outside use: call `MessageBuilder.<type>().broadcast(vchannels)`. */
  constructor(
    token: Internal,
    type: T,
    parts: { headerInit: HeaderInit<T> | undefined; bodyInit: BodyInit<T> | undefined; userProps: [string, string][] },
    vchannels: string[],
    resourceKeys: readonly ResourceKeyInit[],
  ) {
    super(type);
    checkInternal(token, 'BroadcastMessageBuilder');
    this.headerInit = parts.headerInit;
    this.bodyInit = parts.bodyInit;
    this.userProps = parts.userProps;
    this.#vchannels = vchannels;
    this.#resourceKeys = resourceKeys;
  }

  /**
   * Builds the broadcast (broadcast id 0 until the broadcaster assigns one).
   * @throws MessageError like `MessageBuilder.build`, and `INVALID_MESSAGE` for a resource key with an
   *   empty key.
   */
  build(options: BuildOptions = {}): BroadcastMutableMessage<T> {
    for (const k of this.#resourceKeys) {
      if (typeof k.key !== 'string' || k.key === '')
        throw new MessageError('INVALID_MESSAGE', 'broadcast resource keys must have a non-empty key');
    }
    const header = BroadcastHeaderPb.fromPartial({
      broadcastId: 0n,
      vchannels: this.#vchannels,
      resourceKeys: this.#resourceKeys.map((k) => ({ domain: k.domain, key: k.key, shared: k.shared ?? false })),
    });
    const { payload, props } = this.assemble(
      [[PropertyKey.BroadcastHeader, writeProto(BroadcastHeaderPb, header)]],
      options,
    );
    return new BroadcastMutableMessage(INTERNAL, payload, props, this.type);
  }
}

function missing(name: string, part: string, method: string): MessageError {
  return new MessageError('INVALID_MESSAGE', `${name} message has no ${part}; call .${method}()`);
}
