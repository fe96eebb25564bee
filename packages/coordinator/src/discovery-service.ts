import type { ServerDuplexStream } from '@grpc/grpc-js';
import { noopLogger } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { StreamingError, stripStreamingPrefix } from '@streamsvc/message';
import { grpcFailure } from './grpc-failure.js';
import type {
  AssignmentDiscoverRequest,
  AssignmentDiscoverResponse,
  PChannelInfo,
  StreamingCoordAssignmentServiceServer,
} from '@streamsvc/proto';

import { toFullAssignment } from './topology.js';
import type { TopologyHub } from './topology.js';

export interface DiscoveryServiceOptions {
  /**
   * The topology to serve. A function is asked at each new stream: a cluster coordinator returns its
   * hub while active and throws COORDINATOR_NOT_ACTIVE (sent to the client as the stream's status) on a
   * standby.
   */
  readonly hub: TopologyHub | (() => TopologyHub);
  /** A client saw a node answer as if it did not own `pchannel` (the balancer may act on it). */
  readonly onReportedError?: (pchannel: PChannelInfo, error: StreamingError) => void;
  readonly logger?: Logger;
}

/**
 * AssignmentDiscover: each client stream receives the current full topology at once and again after
 * every change, until either side closes it.
 */
export function discoveryService(options: DiscoveryServiceOptions): StreamingCoordAssignmentServiceServer {
  const log = (options.logger ?? noopLogger).child({ component: 'discovery' });
  return {
    assignmentDiscover(call: ServerDuplexStream<AssignmentDiscoverRequest, AssignmentDiscoverResponse>) {
      let hub: TopologyHub;
      try {
        hub = typeof options.hub === 'function' ? options.hub() : options.hub;
      } catch (e) {
        call.emit('error', grpcFailure(e));
        return;
      }
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      call.on('cancelled', stop);
      call.on('error', stop);
      call.on('end', () => {
        stop();
        call.end();
      });
      call.on('data', (request: AssignmentDiscoverRequest) => {
        const r = request.request;
        if (r?.$case === 'close') {
          stop();
          call.write({ response: { $case: 'close', close: {} } });
          call.end();
        } else if (r?.$case === 'reportError' && r.reportError.pchannel) {
          const e = r.reportError.error;
          // Clients send `error.message`, which carries the prefix the constructor adds again.
          const error = new StreamingError(
            StreamingError.codeOfNumber(e?.code ?? 0),
            stripStreamingPrefix(e?.message ?? 'reported by a client'),
          );
          log.info({ pchannel: r.reportError.pchannel.name, code: error.code }, 'client reported a wrong-node answer');
          options.onReportedError?.(r.reportError.pchannel, error);
        }
      });
      void (async () => {
        let sent = hub.current;
        call.write({ response: { $case: 'fullAssignment', fullAssignment: toFullAssignment(sent) } });
        while (!abort.signal.aborted) {
          try {
            await hub.waitNewer(sent.version, abort.signal);
          } catch {
            return;
          }
          if (abort.signal.aborted) return;
          if (hub.closed) {
            call.write({ response: { $case: 'close', close: {} } });
            call.end();
            return;
          }
          sent = hub.current;
          call.write({ response: { $case: 'fullAssignment', fullAssignment: toFullAssignment(sent) } });
        }
      })();
    },
  };
}
