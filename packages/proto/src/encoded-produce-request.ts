// A produce request carries encoded messages. Built the generated way, each message is encoded to bytes
// of its own, then copied into a writer that grows by doubling, then the writer's bytes are copied once
// more into the request: for large messages the copies, and the fresh buffers (each a separate
// allocation the GC must account and collect), cost more than anything else the client does. An
// EncodedProduceRequest is measured first and written once into a buffer of exactly its size; the
// bytes on the wire are those of the generated `ProduceRequest { produce }`.

// Field tags: ProduceRequest.produce (2, length-delimited), ProduceMessageRequest.request_id (1,
// varint) and .messages (2, length-delimited).
const TAG_PRODUCE = (2 << 3) | 2;
const TAG_REQUEST_ID = (1 << 3) | 0;
const TAG_MESSAGE = (2 << 3) | 2;

/**
 * A `ProduceRequest { produce: { requestId, messages } }` already encoded, to write on a produce stream
 * instead of the generated object: the handler service's request serializer sends {@link bytes} as they
 * are. The bytes are a buffer of the request's own, never written again, so views of them (the
 * {@link messages}) stay valid for as long as they are kept.
 */
export class EncodedProduceRequest {
  /** The request's protobuf encoding. */
  readonly bytes: Buffer;
  /** The messages, in order, as views of {@link bytes}. */
  readonly messages: readonly Uint8Array[];

  private constructor(bytes: Buffer, messages: readonly Uint8Array[]) {
    this.bytes = bytes;
    this.messages = messages;
  }

  /**
   * Encodes a produce request of `messages` (each an encoded `streamsvc.message.v1.Message`, copied in).
   * @throws Error when `requestId` is not a uint64 (as the generated encoder does).
   */
  static of(requestId: bigint, messages: readonly Uint8Array[]): EncodedProduceRequest {
    if (BigInt.asUintN(64, requestId) !== requestId) {
      throw new Error('value provided for field message.requestId of type uint64 too large');
    }
    // The generated encoder leaves out a zero request id (the proto3 default).
    let inner = requestId === 0n ? 0 : 1 + varint64Size(requestId);
    for (const m of messages) inner += 1 + varint32Size(m.byteLength) + m.byteLength;
    const bytes = Buffer.allocUnsafe(1 + varint32Size(inner) + inner);
    bytes[0] = TAG_PRODUCE;
    let pos = writeVarint32(bytes, 1, inner);
    if (requestId !== 0n) {
      bytes[pos++] = TAG_REQUEST_ID;
      pos = writeVarint64(bytes, pos, requestId);
    }
    const views: Uint8Array[] = [];
    for (const m of messages) {
      bytes[pos++] = TAG_MESSAGE;
      pos = writeVarint32(bytes, pos, m.byteLength);
      bytes.set(m, pos);
      views.push(new Uint8Array(bytes.buffer, bytes.byteOffset + pos, m.byteLength));
      pos += m.byteLength;
    }
    return new EncodedProduceRequest(bytes, views);
  }
}

function varint32Size(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value >>>= 7;
    size++;
  }
  return size;
}

function varint64Size(value: bigint): number {
  if (value <= 0xffffffffn) return varint32Size(Number(value));
  let size = 1;
  while (value > 0x7fn) {
    value >>= 7n;
    size++;
  }
  return size;
}

function writeVarint32(bytes: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    bytes[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[pos++] = value;
  return pos;
}

function writeVarint64(bytes: Uint8Array, pos: number, value: bigint): number {
  if (value <= 0xffffffffn) return writeVarint32(bytes, pos, Number(value));
  while (value > 0x7fn) {
    bytes[pos++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  bytes[pos++] = Number(value);
  return pos;
}
