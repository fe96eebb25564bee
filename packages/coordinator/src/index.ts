/**
 * @streamsvc/coordinator — the streaming coordinator: pchannel metas and terms persisted in MetaKV,
 * node discovery by sessions, the balancer that moves pchannels, topology published over the
 * AssignmentDiscover stream, Broadcast (one message to many vchannels) and the global TSO service.
 * The standalone server uses {@link SingleNodeCoordinator} (one node owns every pchannel); a cluster
 * runs {@link ClusterCoordinator} (active/standby by election).
 */
export { TopologyHub, isNewer, toFullAssignment } from './topology.js';
export { discoveryService } from './discovery-service.js';
export { tsoService } from './tso-service.js';
export { broadcastService } from './broadcast-service.js';
export { balancerService } from './balancer-service.js';
export { grpcFailure } from './grpc-failure.js';
export { PChannelTerms } from './pchannel-terms.js';
export { SingleNodeCoordinator } from './single-node-coordinator.js';
export { ClusterCoordinator } from './cluster-coordinator.js';
export { Balancer } from './balancer.js';
export { evenSpreadPolicy } from './balance-policy.js';
export { PChannelState, PChannelMetaStore, encodePChannelMeta, decodePChannelMeta } from './pchannel-meta.js';
export {
  NodeSession,
  allocateServerId,
  clusterKeys,
  CLUSTER_APP_KEYS,
  watchNodes,
  encodeNodeSession,
  decodeNodeSession,
} from './node-sessions.js';
export { GrpcNodeManager } from './node-manager-client.js';
export { RemoteTsoSource } from './remote-tso.js';
export { Broadcaster } from './broadcaster.js';
export { BroadcastTaskStore } from './broadcast-task-store.js';
export { BroadcastRequests, broadcastRequestKey } from './broadcast-requests.js';
export { ResourceLocks, describeLockKey } from './resource-locks.js';

export type { Topology } from './topology.js';
export type { DiscoveryServiceOptions } from './discovery-service.js';
export type {
  BroadcastServiceOptions,
  DirectBroadcastServiceOptions,
  ClusterBroadcastServiceOptions,
} from './broadcast-service.js';
export type { BroadcasterOptions, BroadcastCallOptions, BroadcasterStopped, VChannelAppender } from './broadcaster.js';
export type {
  BroadcastOutcome,
  BroadcastRequestKey,
  BroadcastDedupOptions,
  StartBroadcast,
  StartedBroadcast,
} from './broadcast-requests.js';
export type {
  BroadcastTask,
  BroadcastTaskStoreOptions,
  LeadershipGuard,
  NewBroadcastTask,
  VChannelResult,
} from './broadcast-task-store.js';
export type { LockKey, AcquireLocksOptions, ResourceLockHandle } from './resource-locks.js';
export type { BalancerServiceOptions } from './balancer-service.js';
export type { SingleNodeCoordinatorOptions } from './single-node-coordinator.js';
export type { ClusterCoordinatorOptions, ActiveCoordinator, ActiveContext } from './cluster-coordinator.js';
export type { BalancerOptions, PChannelStatus } from './balancer.js';
export type { BalancePolicy, BalanceView } from './balance-policy.js';
export type { PChannelMeta, NodeRef, VersionedMeta } from './pchannel-meta.js';
export type { NodeSessionInfo, NodeSessionOptions, ClusterKeys } from './node-sessions.js';
export type { NodeManagerPort, NodeWalStatus } from './node-manager-client.js';
export type { RemoteTsoSourceOptions } from './remote-tso.js';
