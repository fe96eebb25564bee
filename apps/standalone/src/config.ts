import {
  broadcastDedupSettings,
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
  .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:19540')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be ≤ 65535');

/** Everything the standalone server can be told. Flags > environment > config file > defaults. */
export const standaloneConfigSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default('./data')
      .describe('Where the metastore and the WAL live (flag --data-dir, env STREAMSVC_DATA_DIR).'),
    listen: hostPort.default('127.0.0.1:19540').describe('gRPC address (flag --listen, env STREAMSVC_LISTEN).'),
    http: hostPort
      .default('127.0.0.1:9091')
      .describe('HTTP address of /healthz and /metrics (flag --http, env STREAMSVC_HTTP).'),
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/, 'letters, digits, "." and "-"')
      .default('by-dev')
      .describe('Cluster name: pchannels are named <cluster>-dml_<i> (flag --cluster).'),
    pchannels: z.number().int().min(1).max(256).default(4).describe('Number of pchannels (flag --pchannels).'),
    wal: z
      .enum(WAL_NAMES)
      .default('woodpecker')
      .describe(
        'WAL backend: woodpecker on --data-dir, kafka (--kafka-brokers), pulsar (--pulsar-url) or memory, which keeps nothing across restarts (flag --wal).',
      ),
    ...walBackendSettings,
    // 16 MiB, not the 64 MiB a streaming node gets for four pchannels: the standalone server is the small
    // deployment (its soak budget is 300 MiB RSS), its log is on local disk, so a tail reader that falls
    // out of the buffer catches up from the page cache; and under load the heap keeps about as much again
    // of evicted messages as garbage (docs/benchmarks.md, soak: 426 MiB RSS at 64, 291 MiB at 16).
    writeAheadBufferMiB: z
      .number()
      .int()
      .min(1)
      .default(16)
      .describe('Memory for tail readers, shared by all pchannels (flag --wab-mib, env STREAMSVC_WAB_MIB).'),
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
  .strict()
  .superRefine((c, ctx) => {
    for (const issue of walBackendIssues(c.wal, c)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type StandaloneConfig = z.input<typeof standaloneConfigSchema>;
export type ResolvedStandaloneConfig = z.output<typeof standaloneConfigSchema>;

/** A configuration that cannot be used; the message lists every problem with its source. */
export { ConfigError };

export const USAGE = `usage: streamsvc start [--data-dir DIR] [--listen HOST:PORT] [--http HOST:PORT] [--cluster NAME]
                       [--pchannels N] [--wal woodpecker|kafka|pulsar|memory] [--kafka-brokers HOST:PORT,...]
                       [--pulsar-url URL] [--wab-mib N] [--log-level LEVEL] [--config FILE.json]`;

/**
 * The flags and variables of the standalone server (`--config FILE.json` and `--help` come with the
 * kit). `shutdownTimeoutMs` and the `broadcastDedup*` settings are settable from the file only.
 */
export const standaloneConfigLoader = createConfigLoader({
  schema: standaloneConfigSchema,
  flags: {
    'data-dir': { key: 'dataDir', valueName: 'DIR' },
    listen: { key: 'listen', valueName: 'HOST:PORT' },
    http: { key: 'http', valueName: 'HOST:PORT' },
    cluster: { key: 'cluster', valueName: 'NAME' },
    pchannels: 'pchannels',
    wal: 'wal',
    ...walBackendFlags,
    'wab-mib': 'writeAheadBufferMiB',
    'log-level': { key: 'logLevel', valueName: 'LEVEL' },
  },
  env: {
    prefix: 'STREAMSVC_',
    names: {
      writeAheadBufferMiB: 'STREAMSVC_WAB_MIB',
      shutdownTimeoutMs: false,
      broadcastDedupWindowMs: false,
      broadcastDedupMaxEntries: false,
    },
  },
  usage: USAGE,
});

/**
 * Builds the configuration from command-line arguments, the environment and an optional JSON file
 * (flags > environment > file > defaults).
 * @throws {ConfigError} naming every bad value and where it came from (unknown flags included).
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ResolvedStandaloneConfig & { help: boolean } {
  const { config, help } = standaloneConfigLoader.load(argv, env);
  return { ...config, help };
}

/** What `--help` prints: the usage line, then every setting with its flag, variable, default and meaning. */
export function helpText(): string {
  return `${USAGE}\n\n${renderConfigTable(standaloneConfigLoader.fields)}\n`;
}
