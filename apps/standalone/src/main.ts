#!/usr/bin/env node
import { ConfigError, loadConfig, USAGE } from './config.js';
import { compose } from './compose.js';

/**
 * The process around the standalone server: configuration from flags, environment and file; SIGINT /
 * SIGTERM close it gracefully (a second signal exits at once); exit code 0 after a clean stop, 1 on a
 * startup failure, 2 on a bad configuration.
 */
export async function runStandalone(argv: readonly string[]): Promise<number> {
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (e) {
    process.stderr.write(`${ConfigError.is(e) ? e.message : String(e)}\n`);
    return 2;
  }
  if (config.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let app;
  try {
    app = await compose(config);
  } catch (e) {
    process.stderr.write(`streamsvc: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const started = app;
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(130);
      process.stderr.write(`streamsvc: ${signal} received, shutting down\n`);
      const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000);
      force.unref();
      void started.close().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
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
