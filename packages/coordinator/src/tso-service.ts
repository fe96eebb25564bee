import { status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
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
        (e: unknown) => callback({ code: GrpcStatus.UNAVAILABLE, details: e instanceof Error ? e.message : String(e) }),
      );
    },
  };
}
