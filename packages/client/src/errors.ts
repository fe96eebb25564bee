import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { isAbortError } from '@streamsvc/common';
import { MessageError, StreamingError, stripStreamingPrefix } from '@streamsvc/message';
import type { StreamingErrorCode } from '@streamsvc/message';
import { StreamingErrorInfo } from '@streamsvc/proto';

/**
 * Optional trailing-metadata key under which a server may attach a binary `StreamingErrorInfo` to a
 * failed unary call (Broadcast, AllocTimestamp), so that its code survives the gRPC status. Streams
 * carry errors in `close { error }` and outcomes instead.
 */
export const STREAMING_ERROR_METADATA_KEY = 'streaming-error-bin';

/**
 * Rebuilds the StreamingError a server sent as `StreamingErrorInfo`. The code comes from the wire
 * number (unknown numbers from a newer server become UNKNOWN); `retriable` follows the code, except
 * that an UNKNOWN code keeps the server's flag, the only hint the client has.
 */
export function errorFromWire(info: StreamingErrorInfo | undefined, context: string): StreamingError {
  if (info === undefined) return new StreamingError('UNKNOWN', `${context}: the server gave no error details`);
  const code = StreamingError.codeOfNumber(info.code);
  const message = stripStreamingPrefix(info.message) || `${context} failed`;
  return new StreamingError(code, message, {
    details: { wireCode: info.code, context },
    ...(code === 'UNKNOWN' ? { retriable: info.retriable } : {}),
  });
}

/** How a gRPC status without StreamingError details maps to a code, and whether retrying can help. */
const GRPC_STATUS_TABLE: Readonly<Record<number, { readonly code: StreamingErrorCode; readonly retriable: boolean }>> =
  {
    // Transport trouble: the node is down, restarting, or the stream was reset. Another try (possibly on
    // another node, once the topology says so) can succeed.
    [GrpcStatus.UNAVAILABLE]: { code: 'INNER', retriable: true },
    [GrpcStatus.CANCELLED]: { code: 'INNER', retriable: true },
    [GrpcStatus.DEADLINE_EXCEEDED]: { code: 'INNER', retriable: true },
    [GrpcStatus.INTERNAL]: { code: 'INNER', retriable: true },
    [GrpcStatus.UNKNOWN]: { code: 'INNER', retriable: true },
    [GrpcStatus.ABORTED]: { code: 'INNER', retriable: true },
    // The request itself is wrong (grpc-js reports an over-large message as RESOURCE_EXHAUSTED).
    [GrpcStatus.INVALID_ARGUMENT]: { code: 'INVALID_ARGUMENT', retriable: false },
    [GrpcStatus.OUT_OF_RANGE]: { code: 'INVALID_ARGUMENT', retriable: false },
    [GrpcStatus.RESOURCE_EXHAUSTED]: { code: 'INVALID_ARGUMENT', retriable: false },
    [GrpcStatus.DATA_LOSS]: { code: 'UNRECOVERABLE', retriable: false },
  };

/** True for the error objects grpc-js rejects calls with (`code`, `details`, `metadata`). */
export function isServiceError(e: unknown): e is ServiceError {
  return (
    e instanceof Error &&
    typeof (e as Partial<ServiceError>).code === 'number' &&
    typeof (e as Partial<ServiceError>).details === 'string'
  );
}

/**
 * Translates a failed gRPC call: a StreamingError attached under {@link STREAMING_ERROR_METADATA_KEY}
 * wins; otherwise the status code decides (see the table above; anything else is UNKNOWN, not retriable,
 * e.g. UNIMPLEMENTED from a server that lacks the service).
 */
export function errorFromGrpc(e: ServiceError, context: string): StreamingError {
  const attached = e.metadata instanceof Metadata ? e.metadata.get(STREAMING_ERROR_METADATA_KEY)[0] : undefined;
  if (attached instanceof Buffer) {
    try {
      return errorFromWire(StreamingErrorInfo.decode(attached), context);
    } catch {
      // A corrupt detail is no reason to lose the status itself.
    }
  }
  const row = GRPC_STATUS_TABLE[e.code] ?? { code: 'UNKNOWN', retriable: false };
  const status = (GrpcStatus as Record<number, string>)[e.code] ?? String(e.code);
  return new StreamingError(row.code, `${context}: gRPC ${status}: ${e.details || e.message}`, {
    cause: e,
    retriable: row.retriable,
    details: { grpcCode: e.code, context },
  });
}

/**
 * The one translation point of the client: whatever went wrong becomes a StreamingError, except an
 * abort reason, which callers rethrow untouched.
 */
export function toStreamingError(e: unknown, context: string): StreamingError {
  if (StreamingError.is(e)) return e;
  if (isServiceError(e)) return errorFromGrpc(e, context);
  if (MessageError.is(e)) return new StreamingError('INVALID_ARGUMENT', `${context}: ${e.message}`, { cause: e });
  const text = e instanceof Error ? e.message : String(e);
  return new StreamingError('UNKNOWN', `${context}: ${text}`, { cause: e, retriable: false });
}

/** gRPC statuses that say the endpoint could not be reached or did not answer at all. */
const UNREACHABLE: ReadonlySet<number> = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);

/**
 * True when a coordinator call failed because of the endpoint rather than the request: a standby
 * answered (COORDINATOR_NOT_ACTIVE), the coordinator is shutting down (retriable ON_SHUTDOWN), or the
 * endpoint is unreachable or silent (gRPC UNAVAILABLE, DEADLINE_EXCEEDED without StreamingError
 * details). Another endpoint may serve the same request at once.
 */
export function isEndpointFailure(error: StreamingError): boolean {
  if (error.code === 'COORDINATOR_NOT_ACTIVE') return true;
  if (error.code === 'ON_SHUTDOWN') return error.retriable;
  const grpcCode = error.details?.['grpcCode'];
  return typeof grpcCode === 'number' && UNREACHABLE.has(grpcCode);
}

/** The error of every operation that is refused or cut short because the client was closed. */
export function clientClosedError(): StreamingError {
  return new StreamingError('ON_SHUTDOWN', 'the streaming client is closed', { retriable: false });
}

/** The error of an append that was sent but whose answer will never come (client closed). */
export function outcomeUnknownError(reason: string): StreamingError {
  return new StreamingError('OUTCOME_UNKNOWN', `${reason}; the append was sent and may or may not have been written`);
}

/** True for an abort reason rather than an error of ours (callers rethrow it as is). */
export function isAbortReason(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (e === signal.reason || isAbortError(e));
}
