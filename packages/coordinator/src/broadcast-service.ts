import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { isRetriable, noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { decodeBroadcastMessage, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage, MutableMessage } from '@streamsvc/message';
import type {
  AppendResult,
  BroadcastRequest,
  BroadcastResponse,
  StreamingCoordBroadcastServiceServer,
} from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import { broadcastRequestKey, BroadcastRequests } from './broadcast-requests.js';
import type { BroadcastDedupOptions, BroadcastOutcome } from './broadcast-requests.js';
import type { Broadcaster, VChannelAppender } from './broadcaster.js';
import { grpcFailure } from './grpc-failure.js';

export type { VChannelAppender } from './broadcaster.js';

/**
 * The standalone mode: every vchannel's WAL is in this process, so a broadcast is appended directly,
 * without resource locks or a persisted task (a crash takes the WALs down with the coordinator).
 */
export interface DirectBroadcastServiceOptions {
  readonly append: VChannelAppender;
  /** The WAL backend's name, so clients parse the result ids with the right codec. */
  readonly walName: string;
  /** Broadcast ids come from the TSO, so they are unique across restarts. */
  readonly tso: TsoSource;
  /** Give up on a vchannel that keeps failing with retriable errors after this long. Default 60 s. */
  readonly deadlineMs?: number;
  /** How long finished broadcasts answer retries of their request (default 10 min, 10,000 broadcasts). */
  readonly dedup?: BroadcastDedupOptions;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The cluster mode: broadcasts go through the active coordinator's {@link Broadcaster}. */
export interface ClusterBroadcastServiceOptions {
  /**
   * The broadcaster while this coordinator is the active one; `undefined` on a standby, which answers
   * COORDINATOR_NOT_ACTIVE (retriable: the client asks another coordinator endpoint).
   */
  readonly broadcaster: () => Broadcaster | undefined;
  /** The WAL backend's name, so clients parse the result ids with the right codec. */
  readonly walName: string;
  readonly logger?: Logger;
}

export type BroadcastServiceOptions = DirectBroadcastServiceOptions | ClusterBroadcastServiceOptions;

/**
 * Broadcast: appends one message (DDL such as CreateCollection) to every vchannel its broadcast header
 * names, each copy carrying the same broadcast id, retrying retriable failures (a pchannel moving, a
 * node restarting) with backoff until every vchannel acknowledged. A non-retriable failure on any
 * vchannel fails the call with that error (the other vchannels may hold their copy).
 *
 * With `broadcaster` (cluster) the call runs through {@link Broadcaster.broadcast}: resource locks, a
 * persisted task completed at least once per vchannel across coordinator crashes; a client that cancels
 * the call after its broadcast id was allocated does not stop it. With `append` (standalone) the copies
 * are appended directly.
 *
 * Either way a request carrying the `request_id` of a broadcast in progress or recently finished gets
 * that broadcast's outcome instead of a second broadcast (see `BroadcastRequests`); one whose id was
 * used for a different message answers INVALID_ARGUMENT. An empty id: a new broadcast every time.
 *
 * Errors answer FAILED_PRECONDITION with the StreamingErrorInfo in the metadata: a malformed message is
 * INVALID_ARGUMENT, a StreamingError keeps its code, anything else is INNER (retriable).
 */
export function broadcastService(options: BroadcastServiceOptions): StreamingCoordBroadcastServiceServer {
  const log = (options.logger ?? noopLogger).child({ component: 'broadcast' });
  const run: Run = 'broadcaster' in options ? viaBroadcaster(options.broadcaster) : direct(options);
  return {
    broadcast(call: ServerUnaryCall<BroadcastRequest, BroadcastResponse>, callback: sendUnaryData<BroadcastResponse>) {
      const cancelled = new AbortController();
      const onCancelled = (): void => cancelled.abort(new StreamingError('OUTCOME_UNKNOWN', 'the client cancelled'));
      call.on('cancelled', onCancelled);
      void (async () => {
        try {
          const outcome = await run(
            decodeBroadcastMessage(call.request.message),
            call.request.requestId,
            cancelled.signal,
          );
          log.debug({ broadcastId: String(outcome.broadcastId), vchannels: outcome.results.size }, 'broadcast applied');
          callback(null, {
            broadcastId: outcome.broadcastId,
            results: new Map(outcome.results),
            walName: options.walName,
          });
        } catch (e) {
          callback(grpcFailure(e));
        } finally {
          call.removeListener('cancelled', onCancelled);
        }
      })();
    },
  };
}

type Run = (message: BroadcastMutableMessage, requestId: string, signal: AbortSignal) => Promise<BroadcastOutcome>;

function viaBroadcaster(broadcaster: () => Broadcaster | undefined): Run {
  return (message, requestId, signal) => {
    const active = broadcaster();
    if (active === undefined) {
      throw new StreamingError(
        'COORDINATOR_NOT_ACTIVE',
        'this coordinator is a standby; broadcast through the active coordinator',
      );
    }
    return active.broadcast(message, { signal, requestId });
  };
}

function direct(options: DirectBroadcastServiceOptions): Run {
  const clock = options.clock ?? systemClock;
  const requests = new BroadcastRequests({ ...options.dedup, clock });
  // The appends are not tied to the caller: a cancelled call's broadcast goes on, for its retry to find.
  const appendAll = async (broadcast: BroadcastMutableMessage, broadcastId: bigint): Promise<BroadcastOutcome> => {
    const copies = broadcast.splitIntoMutableMessages();
    const deadline = clock.nowMs() + (options.deadlineMs ?? 60_000);
    const results = await Promise.all(
      copies.map(
        async (copy) => [copy.vchannel!, await appendWithRetry(options.append, copy, deadline, clock)] as const,
      ),
    );
    return { broadcastId, results: new Map(results) };
  };
  return (broadcast, requestId, signal) =>
    requests.run(
      broadcastRequestKey(requestId, broadcast),
      async () => {
        const broadcastId = await options.tso.allocate(1);
        return { job: appendAll(broadcast.withBroadcastId(broadcastId), broadcastId) };
      },
      signal,
    );
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
