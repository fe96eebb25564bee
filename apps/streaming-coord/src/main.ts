#!/usr/bin/env node
import { runApp } from '@streamsvc/app-kit';

import { compose } from './compose.js';
import { helpText, loadConfig } from './config.js';
import type { ResolvedCoordConfig } from './config.js';

/**
 * The coordinator process: configuration from flags, environment and file; SIGINT / SIGTERM resign
 * and stop (a standby takes over at once); exit 0 after a clean stop, 1 on a startup failure, 2 on a
 * bad configuration.
 */
export async function runCoordinator(argv: readonly string[]): Promise<number> {
  return runApp<ResolvedCoordConfig>({
    name: 'streamsvc-coord',
    argv,
    env: process.env,
    load: (args, env) => {
      const config = loadConfig(args, env);
      return config.help ? { help: helpText() } : { config };
    },
    start: (config) => compose(config),
    shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  });
}

const isMain = process.argv[1] !== undefined && /streaming-coord[/\\](dist|src)[/\\]main\.[jt]s$/.test(process.argv[1]);
if (isMain) {
  runCoordinator(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`streamsvc-coord: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
