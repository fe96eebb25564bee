import { status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { isRetriable, noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { decodeBroadcastMessage, MessageError, STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { streamingErrorMetadata } from '@streamsvc/proto';
import type {
  AppendResult,
  BroadcastRequest,
  BroadcastResponse,
  StreamingCoordBroadcastServiceServer,
} from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

/** Appends one message to the WAL owning its vchannel (locally in standalone, over gRPC in a cluster). */
export type VChannelAppender = (message: MutableMessage, options: { signal?: AbortSignal }) => Promise<AppendResult>;

export interface BroadcastServiceOptions {
  readonly append: VChannelAppender;
  /** The WAL backend's name, so clients parse the result ids with the right codec. */
  readonly walName: string;
  /** Broadcast ids come from the TSO, so they are unique across restarts. */
  readonly tso: TsoSource;
  /** Give up on a vchannel that keeps failing with retriable errors after this long. Default 60 s. */
  readonly deadlineMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Broadcast: appends one message (DDL such as CreateCollection) to every vchannel its broadcast header
 * names, each copy carrying the same broadcast id, retrying retriable failures (a pchannel moving,
 * a node restarting) with backoff until every vchannel acknowledged. A non-retriable failure on any
 * vchannel fails the call with that error. (Resource-key locks and a persisted task that survives a
 * coordinator restart belong to the cluster coordinator.)
 */
export function broadcastService(options: BroadcastServiceOptions): StreamingCoordBroadcastServiceServer {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? noopLogger).child({ component: 'broadcast' });
  return {
    broadcast(call: ServerUnaryCall<BroadcastRequest, BroadcastResponse>, callback: sendUnaryData<BroadcastResponse>) {
      void (async () => {
        try {
          const broadcast = decodeBroadcastMessage(call.request.message);
          const broadcastId = await options.tso.allocate(1);
          broadcast.withBroadcastId(broadcastId);
          const copies = broadcast.splitIntoMutableMessages();
          const deadline = clock.nowMs() + (options.deadlineMs ?? 60_000);
          const results = await Promise.all(
            copies.map(
              async (copy) => [copy.vchannel!, await appendWithRetry(options.append, copy, deadline, clock)] as const,
            ),
          );
          log.debug({ broadcastId: String(broadcastId), vchannels: copies.length }, 'broadcast applied');
          callback(null, { broadcastId, results: new Map(results), walName: options.walName });
        } catch (e) {
          const error = MessageError.is(e) ? new StreamingError('INVALID_ARGUMENT', e.message, { cause: e }) : e;
          const info = StreamingError.is(error)
            ? { code: STREAMING_ERROR_NUMBERS[error.code], message: error.message, retriable: error.retriable }
            : { code: STREAMING_ERROR_NUMBERS.INNER, message: String(error), retriable: true };
          callback({
            code: GrpcStatus.FAILED_PRECONDITION,
            details: info.message,
            metadata: streamingErrorMetadata(info),
          });
        }
      })();
    },
  };
}

async function appendWithRetry(
  append: VChannelAppender,
  message: MutableMessage,
  deadline: number,
  clock: Clock,
): Promise<AppendResult> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await append(message.clone(), {});
    } catch (e) {
      if (!isRetriable(e) || clock.nowMs() + delay > deadline) throw e;
      await clock.sleep(delay);
    }
  }
}
