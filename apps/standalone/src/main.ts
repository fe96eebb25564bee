#!/usr/bin/env -S node --initial-old-space-size=96
import { runApp, SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';

import { helpText, loadConfig } from './config.js';
import type { ResolvedStandaloneConfig } from './config.js';
import { compose } from './compose.js';

/**
 * The process around the standalone server: configuration from flags, environment and file; SIGINT /
 * SIGTERM close it gracefully (a second signal exits at once); exit code 0 after a clean stop, 1 on a
 * startup failure, 2 on a bad configuration.
 */
export async function runStandalone(argv: readonly string[]): Promise<number> {
  return runApp<ResolvedStandaloneConfig>({
    name: 'streamsvc',
    argv,
    env: process.env,
    load: (args, env) => {
      const config = loadConfig(args, env);
      return config.help ? { help: helpText() } : { config };
    },
    start: (config) => compose(config),
    shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
    nodeOptions: SERVER_NODE_OPTIONS,
  });
}

const isMain = process.argv[1] !== undefined && /standalone[/\\](dist|src)[/\\]main\.[jt]s$/.test(process.argv[1]);
if (isMain) {
  runStandalone(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`streamsvc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
