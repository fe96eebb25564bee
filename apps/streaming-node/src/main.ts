#!/usr/bin/env -S node --initial-old-space-size=96
import { runApp, SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';

import { compose } from './compose.js';
import { helpText, loadConfig } from './config.js';
import type { ResolvedNodeConfig } from './config.js';

/**
 * The node process: configuration from flags, environment and file; SIGINT / SIGTERM drain (the
 * coordinator moves every pchannel away while producers and consumers keep going), then stop; exit 0
 * after a clean stop, 1 on a startup failure, 2 on a bad configuration.
 */
export async function runNode(argv: readonly string[]): Promise<number> {
  return runApp<ResolvedNodeConfig>({
    name: 'streamsvc-node',
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

const isMain = process.argv[1] !== undefined && /streaming-node[/\\](dist|src)[/\\]main\.[jt]s$/.test(process.argv[1]);
if (isMain) {
  runNode(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`streamsvc-node: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
