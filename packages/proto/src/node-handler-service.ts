import { makeGenericClientConstructor } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientOptions } from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

import {
  CloseConsumerResponse,
  CloseProducerRequest,
  ConsumeRequest,
  ConsumeResponse,
  CreateConsumerResponse,
  CreateProducerRequest,
  ProduceRequest,
  ProduceResponse,
  StreamingNodeHandlerServiceService as GeneratedService,
} from './gen/streamsvc/streaming/v1/node.js';
import { ConsumeBatch } from './consume-batch.js';
import { EncodedProduceRequest } from './encoded-produce-request.js';
import type {
  ConsumedMessage,
  ConsumedMessages,
  ProduceMessageRequest,
  StreamingNodeHandlerServiceClient as ClientType,
  TxnParts,
} from './gen/streamsvc/streaming/v1/node.js';

// The Produce and Consume streams carry every message, so their codec is the one place where per-byte
// work shows on the node's CPU and memory profiles. The generated codec copies each message out of a
// produce request on decode (`Buffer.from(reader.bytes())`) and, on encode, grows a fresh writer by
// doubling, slices it, then copies the slice again into a Buffer before grpc-js copies it into its
// frame. Here:
// - decode hands out views of the request for the messages: the node decodes each one at once, and the
//   message decoder copies the payload out (so a stored message never pins the request); the same for
//   the messages of a consume response on the client, which decodes them as its reader takes them;
// - requests are encoded on one long-lived writer into a single copy (a grpc-js client may keep the
//   bytes for a retry, so they must be its own); a produce request may come already encoded
//   (`EncodedProduceRequest`, a buffer of its own), and is sent as it is;
// - responses are encoded on that writer and handed over as a view of it, no copy at all: responses
//   are serialized only by a grpc-js server, which copies the bytes into its frame at once
//   (`BaseServerInterceptingCall.serializeMessage`), before anything else can encode.
//   `test/node-handler-service.int.test.ts` checks that many responses written in a row arrive intact.
// Everything else of the service is the generated definition.

/** Writers that grew past this are dropped after use, so one huge message does not stay allocated. */
const MAX_KEPT_WRITER_BYTES = 4 * 1024 * 1024;

/**
 * A BinaryWriter that can also hand out what it wrote as a view of its own buffer. Reaches into the
 * writer's `buffer`/`pos`/`stackPos` fields, as `@streamsvc/message`'s pooled writer does: the version of
 * @bufbuild/protobuf is pinned in the catalog, and the tests here cover this path.
 */
class ReusableWriter extends BinaryWriter {
  /** The bytes written, as a view valid until the next write to this writer; resets the writer. */
  finishView(): Buffer {
    const self = this as unknown as { buffer: Uint8Array; pos: number; stackPos: number[] };
    const view = Buffer.from(self.buffer.buffer, self.buffer.byteOffset, self.pos);
    self.pos = 0;
    self.stackPos = [];
    return view;
  }
}

let writer = new ReusableWriter();

/**
 * Encodes `value` with a generated `encode` on the shared writer. `copy`: a fresh Buffer of its own;
 * otherwise a view of the writer, overwritten by the next encode.
 */
function encodeShared<V>(encode: (value: V, writer: BinaryWriter) => BinaryWriter, value: V, copy: boolean): Buffer {
  // Encoding is synchronous, so two encodes never interleave on the shared writer. A failed encode may
  // leave it half-written: it is replaced then, as it is after a large message.
  const used = writer;
  let bytes: Buffer;
  try {
    encode(value, used);
    if (copy) {
      // finish() returns a fresh slice: viewing it as a Buffer needs no second copy.
      const slice = used.finish();
      bytes = Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
    } else {
      bytes = used.finishView();
    }
  } catch (e) {
    writer = new ReusableWriter();
    throw e;
  }
  if (bytes.byteLength > MAX_KEPT_WRITER_BYTES) writer = new ReusableWriter();
  return bytes;
}

function writeBatch(batch: ConsumeBatch, writer: BinaryWriter): BinaryWriter {
  return batch.writeTo(writer);
}

/** A view of `bytes` as a Buffer (the generated types want Buffers); no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads the fields of one message up to `end`, handing each tag to `onField`; a field it does not take
 * (returns false) is skipped, and an end-group or zero tag ends the message, as in the generated decoders.
 */
function readFields(reader: BinaryReader, end: number, onField: (field: number, wireType: WireType) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = (tag & 7) as WireType;
    if (onField(field, wireType)) continue;
    if (wireType === WireType.EndGroup || tag === 0) break;
    reader.skip(wireType, field);
  }
}

const LEN = WireType.LengthDelimited;

/**
 * Decodes `ProduceRequest` bytes like the generated `ProduceRequest.decode`, except that the messages of
 * a `produce` request are views of `input`, not copies: whoever keeps one keeps all of `input` alive.
 * @throws Error for bytes that are not a valid `ProduceRequest` (as the generated decoder does).
 */
export function decodeProduceRequest(input: Uint8Array): ProduceRequest {
  const reader = new BinaryReader(input);
  const message: ProduceRequest = { request: undefined };
  readFields(reader, reader.len, (field, wireType) => {
    if (wireType !== LEN) return false;
    if (field === 1)
      message.request = { $case: 'create', create: CreateProducerRequest.decode(reader, reader.uint32()) };
    else if (field === 2)
      message.request = { $case: 'produce', produce: decodeProduceMessages(reader, reader.uint32()) };
    else if (field === 3)
      message.request = { $case: 'close', close: CloseProducerRequest.decode(reader, reader.uint32()) };
    else return false;
    return true;
  });
  return message;
}

function decodeProduceMessages(reader: BinaryReader, length: number): ProduceMessageRequest {
  const message: ProduceMessageRequest = { requestId: 0n, messages: [] };
  readFields(reader, reader.pos + length, (field, wireType) => {
    if (field === 1 && wireType === WireType.Varint) message.requestId = reader.uint64() as bigint;
    else if (field === 2 && wireType === LEN) message.messages.push(asBuffer(reader.bytes()));
    else return false;
    return true;
  });
  return message;
}

/**
 * Decodes `ConsumeResponse` bytes like the generated `ConsumeResponse.decode`, except that the delivered
 * messages (and transaction parts) are views of `input`, not copies. The client decodes each one into a
 * message, which copies the payload out, so `input` lives only until its batch is consumed.
 * @throws Error for bytes that are not a valid `ConsumeResponse` (as the generated decoder does).
 */
export function decodeConsumeResponse(input: Uint8Array): ConsumeResponse {
  const reader = new BinaryReader(input);
  const message: ConsumeResponse = { response: undefined };
  readFields(reader, reader.len, (field, wireType) => {
    if (wireType !== LEN) return false;
    if (field === 1)
      message.response = { $case: 'create', create: CreateConsumerResponse.decode(reader, reader.uint32()) };
    else if (field === 2)
      message.response = { $case: 'messages', messages: decodeConsumedMessages(reader, reader.uint32()) };
    else if (field === 3)
      message.response = { $case: 'close', close: CloseConsumerResponse.decode(reader, reader.uint32()) };
    else return false;
    return true;
  });
  return message;
}

function decodeConsumedMessages(reader: BinaryReader, length: number): ConsumedMessages {
  const message: ConsumedMessages = { messages: [] };
  readFields(reader, reader.pos + length, (field, wireType) => {
    if (field !== 1 || wireType !== LEN) return false;
    message.messages.push(decodeConsumedMessage(reader, reader.uint32()));
    return true;
  });
  return message;
}

function decodeConsumedMessage(reader: BinaryReader, length: number): ConsumedMessage {
  const message: ConsumedMessage = { message: undefined };
  readFields(reader, reader.pos + length, (field, wireType) => {
    if (wireType !== LEN) return false;
    if (field === 1) message.message = { $case: 'single', single: asBuffer(reader.bytes()) };
    else if (field === 2) message.message = { $case: 'txn', txn: decodeTxnParts(reader, reader.uint32()) };
    else return false;
    return true;
  });
  return message;
}

function decodeTxnParts(reader: BinaryReader, length: number): TxnParts {
  const message: TxnParts = { begin: Buffer.alloc(0), body: [], commit: Buffer.alloc(0) };
  readFields(reader, reader.pos + length, (field, wireType) => {
    if (wireType !== LEN) return false;
    if (field === 1) message.begin = asBuffer(reader.bytes());
    else if (field === 2) message.body.push(asBuffer(reader.bytes()));
    else if (field === 3) message.commit = asBuffer(reader.bytes());
    else return false;
    return true;
  });
  return message;
}

/**
 * The `StreamingNodeHandlerService` definition for grpc-js servers and clients: the generated one with
 * the decoders of produce requests and consume responses replaced by {@link decodeProduceRequest} and
 * {@link decodeConsumeResponse}, and copy-saving encoders. Its
 * response serializers return views of a shared buffer: only a grpc-js server may call them. A consume
 * stream may also be written a {@link ConsumeBatch}, whose messages are encoded into the response, and a
 * produce stream an {@link EncodedProduceRequest}, whose bytes are sent as they are.
 */
export const StreamingNodeHandlerServiceService = {
  produce: {
    ...GeneratedService.produce,
    requestSerialize: (value: ProduceRequest | EncodedProduceRequest): Buffer =>
      value instanceof EncodedProduceRequest ? value.bytes : encodeShared(ProduceRequest.encode, value, true),
    requestDeserialize: (value: Buffer): ProduceRequest => decodeProduceRequest(value),
    responseSerialize: (value: ProduceResponse): Buffer => encodeShared(ProduceResponse.encode, value, false),
  },
  consume: {
    ...GeneratedService.consume,
    requestSerialize: (value: ConsumeRequest): Buffer => encodeShared(ConsumeRequest.encode, value, true),
    responseSerialize: (value: ConsumeResponse | ConsumeBatch): Buffer =>
      value instanceof ConsumeBatch
        ? encodeShared(writeBatch, value, false)
        : encodeShared(ConsumeResponse.encode, value, false),
    responseDeserialize: (value: Buffer): ConsumeResponse => decodeConsumeResponse(value),
  },
} as const satisfies typeof GeneratedService;

/** The `StreamingNodeHandlerService` client for grpc-js, built on {@link StreamingNodeHandlerServiceService}. */
export const StreamingNodeHandlerServiceClient = makeGenericClientConstructor(
  StreamingNodeHandlerServiceService,
  'streamsvc.streaming.v1.StreamingNodeHandlerService',
) as unknown as {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): ClientType;
  service: typeof StreamingNodeHandlerServiceService;
  serviceName: string;
};

/** An instance of {@link StreamingNodeHandlerServiceClient}. */
export type StreamingNodeHandlerServiceClient = ClientType;
