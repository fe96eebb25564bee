import { status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { STREAMING_ERROR_NUMBERS } from '@streamsvc/message';
import { streamingErrorMetadata } from '@streamsvc/proto';
import type { AllocTimestampRequest, AllocTimestampResponse, TsoServiceServer } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

/** AllocTimestamp over the cluster's global allocator: nodes take blocks, clients guarantee timestamps. */
export function tsoService(source: TsoSource): TsoServiceServer {
  return {
    allocTimestamp(
      call: ServerUnaryCall<AllocTimestampRequest, AllocTimestampResponse>,
      callback: sendUnaryData<AllocTimestampResponse>,
    ) {
      const count = call.request.count || 1;
      source.allocate(count).then(
        (first) => callback(null, { first, count }),
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          const info = { code: STREAMING_ERROR_NUMBERS.INNER, message, retriable: true };
          callback({ code: GrpcStatus.UNAVAILABLE, details: message, metadata: streamingErrorMetadata(info) });
        },
      );
    },
  };
}
