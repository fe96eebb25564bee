/**
 * @streamsvc/app-kit — what every streamsvc server app shares: configuration from flags > env > file >
 * defaults, the process lifecycle (signals, exit codes), pino logging, Prometheus metrics and the
 * /healthz + /metrics endpoint. For apps only (Nx tag `layer:app`); packages never import it.
 *
 * ```ts
 * const loader = createConfigLoader({ schema, flags: { listen: 'listen' }, env: { prefix: 'STREAMSVC_' } });
 * process.exitCode = await runApp({
 *   name: 'streamsvc', argv: process.argv.slice(2), env: process.env, shutdownTimeoutMs: 10_000,
 *   load: (argv, env) => { const l = loader.load(argv, env); return l.help ? { help: USAGE } : { config: l.config }; },
 *   start: (config) => compose(config),
 * });
 * ```
 */
export { ConfigError, ConfigErrorCode, formatConfigSource } from './config-error.js';
export { createConfigLoader } from './config-loader.js';
export { describeConfigFields, envSuffix } from './config-fields.js';
export { renderConfigTable } from './config-help.js';
export { startHttpServer, parseListenAddress } from './http-server.js';
export { broadcastDedupOptions, broadcastDedupSettings } from './broadcast-dedup-settings.js';
export { createLogger } from './logger.js';
export { createMetrics, walNodeMetrics } from './metrics.js';
export { runApp, nodeProcess, ExitCode } from './run-app.js';
export { SERVER_NODE_OPTIONS } from './node-options.js';
export {
  WAL_NAMES,
  walBackends,
  allMessageIdCodecs,
  walBackendSettings,
  walBackendFlags,
  walBackendIssues,
  openWalBackend,
} from './wal-backends.js';

export type { ConfigSource, ConfigProblem } from './config-error.js';
export type { ConfigEnv, ConfigLoader, ConfigLoaderOptions, LoadedConfig } from './config-loader.js';
export type {
  AnyConfigSchema,
  ConfigField,
  ConfigKey,
  ConfigValueKind,
  EnvSpec,
  FlagSpec,
  FlagTable,
} from './config-fields.js';
export type { ConfigTableFormat } from './config-help.js';
export type { HealthReport, HttpServer, HttpServerOptions, MetricsText } from './http-server.js';
export type { LoggerOptions, LogLevel } from './logger.js';
export type {
  AppMetrics,
  HistogramSpec,
  MetricSpec,
  MetricsOptions,
  StreamCountSource,
  WalNodeMetrics,
  WalStatusSource,
} from './metrics.js';
export type { AppControl, AppLoad, AppProcess, RunAppOptions, RunningApp, ShutdownSignal } from './run-app.js';
export type { BroadcastDedupSettings } from './broadcast-dedup-settings.js';
export type { WalName, WalBackendSettings } from './wal-backends.js';
