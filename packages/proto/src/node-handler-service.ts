import { makeGenericClientConstructor } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientOptions } from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

import {
  CloseProducerRequest,
  ConsumeRequest,
  ConsumeResponse,
  CreateProducerRequest,
  ProduceRequest,
  ProduceResponse,
  StreamingNodeHandlerServiceService as GeneratedService,
} from './gen/streamsvc/streaming/v1/node.js';
import type {
  ProduceMessageRequest,
  StreamingNodeHandlerServiceClient as ClientType,
} from './gen/streamsvc/streaming/v1/node.js';

// The Produce stream carries every appended message, so its codec is the one place where per-byte work
// shows on the node's CPU profile. The generated codec copies each message out of the request on decode
// (`Buffer.from(reader.bytes())`) and, on encode, grows a fresh writer by doubling, slices it, then
// copies the slice again into a Buffer before grpc-js copies it into its frame. Here:
// - decode hands out views of the request for the messages: the node decodes each one at once, and the
//   message decoder copies the payload out (so a stored message never pins the request);
// - encode writes on one long-lived writer and wraps its single output copy without another.
// Everything else of the service is the generated definition.

/** Writers that grew past this are dropped after use, so one huge request does not stay allocated. */
const MAX_KEPT_WRITER_BYTES = 4 * 1024 * 1024;

let writer = new BinaryWriter();

/** Encodes `value` with a generated `encode` on the shared writer; one copy of the bytes, as a Buffer. */
function encodeShared<V>(encode: (value: V, writer: BinaryWriter) => BinaryWriter, value: V): Buffer {
  // Encoding is synchronous, so two encodes never interleave on the shared writer. A failed encode may
  // leave it half-written: it is replaced then, as it is after a large message.
  let bytes: Uint8Array;
  try {
    bytes = encode(value, writer).finish();
  } catch (e) {
    writer = new BinaryWriter();
    throw e;
  }
  if (bytes.byteLength > MAX_KEPT_WRITER_BYTES) writer = new BinaryWriter();
  // finish() returns a fresh slice: viewing it as a Buffer needs no copy.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A view of `bytes` as a Buffer (the generated types want Buffers); no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes `ProduceRequest` bytes like the generated `ProduceRequest.decode`, except that the messages of
 * a `produce` request are views of `input`, not copies: whoever keeps one keeps all of `input` alive.
 * @throws Error for bytes that are not a valid `ProduceRequest` (as the generated decoder does).
 */
export function decodeProduceRequest(input: Uint8Array): ProduceRequest {
  const reader = new BinaryReader(input);
  const message: ProduceRequest = { request: undefined };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = (tag & 7) as WireType;
    if (wireType === WireType.LengthDelimited && field >= 1 && field <= 3) {
      const length = reader.uint32();
      if (field === 1) message.request = { $case: 'create', create: CreateProducerRequest.decode(reader, length) };
      else if (field === 2) message.request = { $case: 'produce', produce: decodeProduceMessages(reader, length) };
      else message.request = { $case: 'close', close: CloseProducerRequest.decode(reader, length) };
      continue;
    }
    // As in the generated decoder: an end-group or zero tag ends the message; other unknowns are skipped.
    if (wireType === WireType.EndGroup || tag === 0) break;
    reader.skip(wireType, field);
  }
  return message;
}

function decodeProduceMessages(reader: BinaryReader, length: number): ProduceMessageRequest {
  const end = reader.pos + length;
  const message: ProduceMessageRequest = { requestId: 0n, messages: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = (tag & 7) as WireType;
    if (field === 1 && wireType === WireType.Varint) {
      message.requestId = reader.uint64() as bigint;
      continue;
    }
    if (field === 2 && wireType === WireType.LengthDelimited) {
      message.messages.push(asBuffer(reader.bytes()));
      continue;
    }
    if (wireType === WireType.EndGroup || tag === 0) break;
    reader.skip(wireType, field);
  }
  return message;
}

/**
 * The `StreamingNodeHandlerService` definition for grpc-js servers and clients: the generated one with
 * the Produce stream's codec replaced by {@link decodeProduceRequest} and copy-saving encoders.
 */
export const StreamingNodeHandlerServiceService = {
  produce: {
    ...GeneratedService.produce,
    requestSerialize: (value: ProduceRequest): Buffer => encodeShared(ProduceRequest.encode, value),
    requestDeserialize: (value: Buffer): ProduceRequest => decodeProduceRequest(value),
    responseSerialize: (value: ProduceResponse): Buffer => encodeShared(ProduceResponse.encode, value),
  },
  consume: {
    ...GeneratedService.consume,
    requestSerialize: (value: ConsumeRequest): Buffer => encodeShared(ConsumeRequest.encode, value),
    responseSerialize: (value: ConsumeResponse): Buffer => encodeShared(ConsumeResponse.encode, value),
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
