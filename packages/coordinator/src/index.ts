/**
 * @streamsvc/coordinator — the streaming coordinator: pchannel terms persisted in MetaKV, topology
 * published over the AssignmentDiscover stream, Broadcast (one message to many vchannels) and the
 * global TSO service. The standalone server uses {@link SingleNodeCoordinator}: one node owns every
 * pchannel.
 */
export { TopologyHub, isNewer, toFullAssignment } from './topology.js';
export { discoveryService } from './discovery-service.js';
export { tsoService } from './tso-service.js';
export { broadcastService } from './broadcast-service.js';
export { PChannelTerms } from './pchannel-terms.js';
export { SingleNodeCoordinator } from './single-node-coordinator.js';

export type { Topology } from './topology.js';
export type { DiscoveryServiceOptions } from './discovery-service.js';
export type { BroadcastServiceOptions, VChannelAppender } from './broadcast-service.js';
export type { SingleNodeCoordinatorOptions } from './single-node-coordinator.js';
