import {
  ConfigError,
  createConfigLoader,
  renderConfigTable,
  WAL_NAMES,
  walBackendFlags,
  walBackendIssues,
  walBackendSettings,
} from '@streamsvc/app-kit';
import { z } from 'zod';

/** `host:port` with a numeric port (0 = pick a free one). */
const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:19541')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be ≤ 65535');

/** Everything a streaming node can be told. Flags > environment > config file > defaults. */
export const nodeConfigSchema = z
  .object({
    etcd: z
      .string()
      .regex(/^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/, 'expected http://host:port[,http://host:port...]')
      .default('http://127.0.0.1:2379')
      .describe('etcd client URLs, comma-separated (flag --etcd, env STREAMSVC_ETCD).'),
    root: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'letters, digits, ".", "_", "-" and "/"')
      .default('streamsvc')
      .describe("etcd key prefix of the cluster: the coordinator's --root (flag --root)."),
    listen: hostPort.default('127.0.0.1:19541').describe('gRPC address (flag --listen, env STREAMSVC_LISTEN).'),
    advertise: hostPort
      .optional()
      .describe('Address the coordinator and clients reach this node on; default the bound --listen address.'),
    http: hostPort
      .default('127.0.0.1:9191')
      .describe('HTTP address of /healthz and /metrics (flag --http, env STREAMSVC_HTTP).'),
    wal: z
      .enum(WAL_NAMES)
      .default('woodpecker')
      .describe(
        'WAL backend: woodpecker (see --storage), kafka (--kafka-brokers), pulsar (--pulsar-url); memory is for trying things out only: each node keeps its own log, so a moved pchannel starts empty (flag --wal).',
      ),
    ...walBackendSettings,
    storage: z
      .enum(['local', 'object-local', 's3'])
      .default('local')
      .describe(
        'Where the Woodpecker WAL keeps its blocks: `local` files under --wal-dir (every node of the cluster on one machine or a shared disk), `object-local` a local-filesystem object store under --wal-dir, `s3` an S3 bucket (flag --storage).',
      ),
    walDir: z
      .string()
      .min(1)
      .default('./data/wal')
      .describe('Directory of the `local` and `object-local` storages; the same for every node (flag --wal-dir).'),
    s3Endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('S3 endpoint URL (flag --s3-endpoint).'),
    s3Bucket: z.string().min(3).max(63).optional().describe('S3 bucket (flag --s3-bucket).'),
    s3AccessKey: z.string().min(1).optional().describe('S3 access key (env STREAMSVC_S3_ACCESS_KEY).'),
    s3SecretKey: z.string().min(1).optional().describe('S3 secret key (env STREAMSVC_S3_SECRET_KEY).'),
    sessionTtlMs: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      .default(10_000)
      .describe(
        'Session TTL: a node silent this long is declared gone and its pchannels move (flag --session-ttl-ms).',
      ),
    writeAheadBufferMiB: z
      .number()
      .int()
      .min(1)
      .default(16)
      .describe('Memory for tail readers of each pchannel this node holds (flag --wab-mib).'),
    drainTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe(
        'On SIGTERM, how long to wait for the coordinator to move every pchannel away (flag --drain-timeout-ms).',
      ),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe('Log level (flag --log-level).'),
    shutdownTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(20_000)
      .describe('How long a graceful shutdown (drain included) may take before it is forced.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const issue of walBackendIssues(c.wal, c)) ctx.addIssue({ code: 'custom', ...issue });
    if (c.wal !== 'woodpecker' || c.storage !== 's3') return;
    for (const key of ['s3Endpoint', 's3Bucket', 's3AccessKey', 's3SecretKey'] as const) {
      if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required with --storage s3' });
    }
  });

export type NodeConfig = z.input<typeof nodeConfigSchema>;
export type ResolvedNodeConfig = z.output<typeof nodeConfigSchema>;

export { ConfigError };

export const USAGE = `usage: streamsvc-node [--etcd URLS] [--root PREFIX] [--listen HOST:PORT] [--advertise HOST:PORT]
                      [--http HOST:PORT] [--wal woodpecker|kafka|pulsar|memory] [--kafka-brokers HOST:PORT,...]
                      [--pulsar-url URL] [--storage local|object-local|s3] [--wal-dir DIR]
                      [--s3-endpoint URL --s3-bucket NAME] [--session-ttl-ms MS] [--wab-mib N]
                      [--drain-timeout-ms MS] [--log-level LEVEL] [--config FILE.json]`;

export const nodeConfigLoader = createConfigLoader({
  schema: nodeConfigSchema,
  flags: {
    etcd: { key: 'etcd', valueName: 'URLS' },
    root: { key: 'root', valueName: 'PREFIX' },
    listen: { key: 'listen', valueName: 'HOST:PORT' },
    advertise: { key: 'advertise', valueName: 'HOST:PORT' },
    http: { key: 'http', valueName: 'HOST:PORT' },
    wal: 'wal',
    ...walBackendFlags,
    storage: 'storage',
    'wal-dir': { key: 'walDir', valueName: 'DIR' },
    's3-endpoint': { key: 's3Endpoint', valueName: 'URL' },
    's3-bucket': { key: 's3Bucket', valueName: 'NAME' },
    'session-ttl-ms': { key: 'sessionTtlMs', valueName: 'MS' },
    'wab-mib': 'writeAheadBufferMiB',
    'drain-timeout-ms': { key: 'drainTimeoutMs', valueName: 'MS' },
    'log-level': { key: 'logLevel', valueName: 'LEVEL' },
  },
  env: { prefix: 'STREAMSVC_', names: { writeAheadBufferMiB: 'STREAMSVC_WAB_MIB', shutdownTimeoutMs: false } },
  usage: USAGE,
});

/**
 * Builds the configuration from flags, the environment and an optional JSON file.
 * @throws {ConfigError} naming every bad value and where it came from.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ResolvedNodeConfig & { help: boolean } {
  const { config, help } = nodeConfigLoader.load(argv, env);
  return { ...config, help };
}

/** What `--help` prints: the usage line, then every setting with its flag, variable, default and meaning. */
export function helpText(): string {
  return `${USAGE}\n\n${renderConfigTable(nodeConfigLoader.fields)}\n`;
}
