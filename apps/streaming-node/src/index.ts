/**
 * @streamsvc/streaming-node — a streaming node of a streamsvc cluster, as a process (`streamsvc-node`)
 * or composed in code (`compose(config)`).
 */
export { compose } from './compose.js';
export { Membership } from './membership.js';
export { nodeConfigSchema, nodeConfigLoader, loadConfig, USAGE, ConfigError } from './config.js';
export { runNode } from './main.js';

export type { NodeApp, NodeOverrides } from './compose.js';
export type { MembershipOptions } from './membership.js';
export type { NodeConfig, ResolvedNodeConfig } from './config.js';
