/**
 * @streamsvc/standalone — the whole of streamsvc in one process, for `npm start` and single-machine use.
 */
export { compose } from './compose.js';
export { runStandalone } from './main.js';
export { loadConfig, standaloneConfigSchema, ConfigError, USAGE } from './config.js';

export type { StandaloneApp, StandaloneOverrides } from './compose.js';
export type { StandaloneConfig, ResolvedStandaloneConfig } from './config.js';
