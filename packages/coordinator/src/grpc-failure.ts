import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Metadata } from '@grpc/grpc-js';
import { MessageError, STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import { streamingErrorMetadata } from '@streamsvc/proto';

/**
 * The gRPC status for a failed coordinator call: FAILED_PRECONDITION with the StreamingErrorInfo in the
 * trailing metadata (clients branch on its code). A MessageError (a malformed message) becomes
 * INVALID_ARGUMENT; anything unexpected becomes INNER, retriable, with its text.
 */
export function grpcFailure(e: unknown): { code: GrpcStatus; details: string; metadata: Metadata } {
  const error = MessageError.is(e) ? new StreamingError('INVALID_ARGUMENT', e.message, { cause: e }) : e;
  const info = StreamingError.is(error)
    ? { code: STREAMING_ERROR_NUMBERS[error.code], message: error.message, retriable: error.retriable }
    : {
        code: STREAMING_ERROR_NUMBERS.INNER,
        message: `[streaming] internal error: ${error instanceof Error ? error.message : String(error)}`,
        retriable: true,
      };
  return { code: GrpcStatus.FAILED_PRECONDITION, details: info.message, metadata: streamingErrorMetadata(info) };
}
