import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { StreamingError } from '@streamsvc/message';
import { streamingErrorMetadata } from '@streamsvc/proto';
import type {
  AssignRequest,
  AssignResponse,
  CollectStatusRequest,
  CollectStatusResponse,
  NodeInfo,
  RemoveRequest,
  RemoveResponse,
  StreamingNodeManagerServiceServer,
} from '@streamsvc/proto';

import type { WalManager } from './wal-manager.js';
import { toErrorInfo } from './wire-errors.js';

/**
 * The manager service: the coordinator assigns and removes pchannels. Failures carry the
 * StreamingErrorInfo in the status's trailing metadata so the coordinator can tell IGNORED_OPERATION
 * (a stale command, fine) from a real failure.
 */
export function managerService(manager: WalManager, node: () => NodeInfo): StreamingNodeManagerServiceServer {
  return {
    assign(call: ServerUnaryCall<AssignRequest, AssignResponse>, callback: sendUnaryData<AssignResponse>) {
      const p = call.request.pchannel;
      if (!p?.name || p.term < 1n) return callback(invalid('assign needs a pchannel name and a term ≥ 1'));
      manager.assign(p.name, p.term).then(
        () => callback(null, {}),
        (e: unknown) => callback(failure(e)),
      );
    },
    remove(call: ServerUnaryCall<RemoveRequest, RemoveResponse>, callback: sendUnaryData<RemoveResponse>) {
      const p = call.request.pchannel;
      if (!p?.name) return callback(invalid('remove needs a pchannel name'));
      manager.remove(p.name, p.term).then(
        () => callback(null, {}),
        (e: unknown) => callback(failure(e)),
      );
    },
    collectStatus(
      _call: ServerUnaryCall<CollectStatusRequest, CollectStatusResponse>,
      callback: sendUnaryData<CollectStatusResponse>,
    ) {
      callback(null, {
        node: node(),
        wals: manager.status().map((w) => ({
          pchannel: { name: w.pchannel, term: w.term },
          state: w.state,
          latestTimeTick: w.latestTimeTick ?? 0n,
          lastConfirmed: w.lastConfirmed ?? '',
        })),
      });
    },
  };
}

function invalid(message: string): { code: GrpcStatus; details: string; metadata: Metadata } {
  return failure(new StreamingError('INVALID_ARGUMENT', message));
}

/** A gRPC error carrying the StreamingErrorInfo in its trailing metadata (see `streamingErrorMetadata`). */
export function failure(e: unknown): { code: GrpcStatus; details: string; metadata: Metadata } {
  const info = toErrorInfo(e);
  return { code: GrpcStatus.FAILED_PRECONDITION, details: info.message, metadata: streamingErrorMetadata(info) };
}
