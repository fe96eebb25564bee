/**
 * @streamsvc/streaming-coord — the coordinator of a streamsvc cluster, as a process
 * (`streamsvc-coord`) or composed in code (`compose(config)`).
 */
export { compose } from './compose.js';
export { coordConfigSchema, coordConfigLoader, loadConfig, USAGE, ConfigError } from './config.js';
export { runCoordinator } from './main.js';

export type { CoordApp, CoordOverrides } from './compose.js';
export type { CoordConfig, ResolvedCoordConfig } from './config.js';
