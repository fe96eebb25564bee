import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { StreamingError } from '@streamsvc/message';
import type {
  GetBalanceStatusRequest,
  GetBalanceStatusResponse,
  MovePChannelRequest,
  MovePChannelResponse,
  StreamingCoordBalancerServiceServer,
} from '@streamsvc/proto';

import type { Balancer } from './balancer.js';
import { grpcFailure } from './grpc-failure.js';

export interface BalancerServiceOptions {
  /** The active balancer; throws COORDINATOR_NOT_ACTIVE on a standby. */
  readonly balancer: () => Balancer;
  /** This coordinator's address (reported as the active one); asked at each call, once the port is bound. */
  readonly address: () => string;
}

/** The operator's view and control of the balancer: status of every node and pchannel, manual moves. */
export function balancerService(options: BalancerServiceOptions): StreamingCoordBalancerServiceServer {
  return {
    getBalanceStatus(
      _call: ServerUnaryCall<GetBalanceStatusRequest, GetBalanceStatusResponse>,
      callback: sendUnaryData<GetBalanceStatusResponse>,
    ) {
      let balancer: Balancer;
      try {
        balancer = options.balancer();
      } catch (e) {
        return callback(grpcFailure(e));
      }
      callback(null, {
        coordinator: options.address(),
        nodes: balancer.nodes.map((n) => ({
          node: { serverId: n.serverId, address: n.address },
          draining: n.draining,
          version: n.version,
        })),
        pchannels: balancer.status().map((p) => ({
          name: p.name,
          term: p.term,
          state: p.state,
          node: p.node ? { serverId: p.node.serverId, address: p.node.address } : undefined,
          moving: p.moving,
          assignedAtMs: p.assignedAtMs,
        })),
      });
    },
    movePChannel(
      call: ServerUnaryCall<MovePChannelRequest, MovePChannelResponse>,
      callback: sendUnaryData<MovePChannelResponse>,
    ) {
      const { pchannel, serverId } = call.request;
      if (!pchannel || serverId < 1n) {
        return callback(
          grpcFailure(new StreamingError('INVALID_ARGUMENT', 'move needs a pchannel and a server id ≥ 1')),
        );
      }
      let balancer: Balancer;
      try {
        balancer = options.balancer();
      } catch (e) {
        return callback(grpcFailure(e));
      }
      balancer.move(pchannel, serverId).then(
        () => {
          const meta = balancer.status().find((p) => p.name === pchannel);
          callback(null, { pchannel: { name: pchannel, term: meta?.term ?? 0n } });
        },
        (e: unknown) => callback(grpcFailure(e)),
      );
    },
  };
}
