/**
 * @streamsvc/cli — the `streamsvc` command: `start`, `create-collection`, `produce`, `consume`,
 * `topology`, `status`, `bench`. `runCli(argv, env)` runs it in process (tests, embedding).
 */
export { runCli } from './program.js';
export { parseFrom } from './consume.js';
export { createCollection } from './collections.js';
export { DEFAULT_ENDPOINT } from './connect.js';

export type { CliEnv } from './program.js';
export type { Io } from './output.js';
export type { CreatedCollection } from './collections.js';
