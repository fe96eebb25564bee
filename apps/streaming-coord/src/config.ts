import {
  broadcastDedupSettings,
  ConfigError,
  createConfigLoader,
  renderConfigTable,
  WAL_NAMES,
} from '@streamsvc/app-kit';
import { z } from 'zod';

/** `host:port` with a numeric port (0 = pick a free one). */
const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:19530')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be ≤ 65535');

/** Comma-separated etcd client URLs. */
const etcdEndpoints = z
  .string()
  .regex(/^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/, 'expected http://host:port[,http://host:port...]');

/** Everything the coordinator can be told. Flags > environment > config file > defaults. */
export const coordConfigSchema = z
  .object({
    etcd: etcdEndpoints
      .default('http://127.0.0.1:2379')
      .describe('etcd client URLs, comma-separated (flag --etcd, env STREAMSVC_ETCD).'),
    root: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'letters, digits, ".", "_", "-" and "/"')
      .default('streamsvc')
      .describe('etcd key prefix of this cluster: every node and coordinator of it must use the same (flag --root).'),
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/, 'letters, digits, "." and "-"')
      .default('by-dev')
      .describe('Cluster name: pchannels are named <cluster>-dml_<i> (flag --cluster).'),
    pchannels: z.number().int().min(1).max(1024).default(16).describe('Number of pchannels (flag --pchannels).'),
    listen: hostPort.default('127.0.0.1:19530').describe('gRPC address (flag --listen, env STREAMSVC_LISTEN).'),
    advertise: hostPort
      .optional()
      .describe('Address nodes and clients reach this coordinator on; default the bound --listen address.'),
    http: hostPort
      .default('127.0.0.1:9190')
      .describe('HTTP address of /healthz and /metrics (flag --http, env STREAMSVC_HTTP).'),
    wal: z
      .enum(WAL_NAMES)
      .default('woodpecker')
      .describe("The nodes' WAL backend, so clients parse broadcast result ids (flag --wal)."),
    sessionTtlMs: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      .default(10_000)
      .describe(
        "The coordinator's own session TTL: how long a standby waits for a dead active one (flag --session-ttl-ms).",
      ),
    checkIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe('How often the balancer asks every node what it holds (flag --check-interval-ms).'),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe('Log level (flag --log-level).'),
    ...broadcastDedupSettings,
    shutdownTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('How long a graceful shutdown may take before it is forced.'),
  })
  .strict();

export type CoordConfig = z.input<typeof coordConfigSchema>;
export type ResolvedCoordConfig = z.output<typeof coordConfigSchema>;

export { ConfigError };

export const USAGE = `usage: streamsvc-coord [--etcd URLS] [--root PREFIX] [--cluster NAME] [--pchannels N]
                       [--listen HOST:PORT] [--advertise HOST:PORT] [--http HOST:PORT] [--wal woodpecker|kafka|pulsar|memory]
                       [--session-ttl-ms MS] [--check-interval-ms MS] [--log-level LEVEL] [--config FILE.json]`;

export const coordConfigLoader = createConfigLoader({
  schema: coordConfigSchema,
  flags: {
    etcd: { key: 'etcd', valueName: 'URLS' },
    root: { key: 'root', valueName: 'PREFIX' },
    cluster: { key: 'cluster', valueName: 'NAME' },
    pchannels: 'pchannels',
    listen: { key: 'listen', valueName: 'HOST:PORT' },
    advertise: { key: 'advertise', valueName: 'HOST:PORT' },
    http: { key: 'http', valueName: 'HOST:PORT' },
    wal: 'wal',
    'session-ttl-ms': { key: 'sessionTtlMs', valueName: 'MS' },
    'check-interval-ms': { key: 'checkIntervalMs', valueName: 'MS' },
    'log-level': { key: 'logLevel', valueName: 'LEVEL' },
  },
  env: {
    prefix: 'STREAMSVC_',
    names: { shutdownTimeoutMs: false, broadcastDedupWindowMs: false, broadcastDedupMaxEntries: false },
  },
  usage: USAGE,
});

/**
 * Builds the configuration from flags, the environment and an optional JSON file.
 * @throws {ConfigError} naming every bad value and where it came from.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ResolvedCoordConfig & { help: boolean } {
  const { config, help } = coordConfigLoader.load(argv, env);
  return { ...config, help };
}

/** What `--help` prints: the usage line, then every setting with its flag, variable, default and meaning. */
export function helpText(): string {
  return `${USAGE}\n\n${renderConfigTable(coordConfigLoader.fields)}\n`;
}
