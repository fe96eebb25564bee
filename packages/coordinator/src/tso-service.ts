import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { StreamingError } from '@streamsvc/message';
import type { AllocTimestampRequest, AllocTimestampResponse, TsoServiceServer } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import { grpcFailure } from './grpc-failure.js';

/**
 * AllocTimestamp over the cluster's global allocator: nodes take blocks, clients guarantee timestamps.
 * A StreamingError from the source (COORDINATOR_NOT_ACTIVE on a standby) keeps its code; allocator
 * failures (the metastore unreachable, a fenced allocator) are INNER, retriable.
 */
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
          const error = StreamingError.is(e)
            ? e
            : new StreamingError(
                'INNER',
                `timestamp allocation failed: ${e instanceof Error ? e.message : String(e)}`,
                {
                  cause: e,
                },
              );
          callback(grpcFailure(error));
        },
      );
    },
  };
}
