import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { CodedError, isCodedError } from '@streamsvc/common';
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
      .enum(['woodpecker', 'memory'])
      .default('woodpecker')
      .describe('WAL backend; memory keeps nothing across restarts (flag --wal).'),
    writeAheadBufferMiB: z
      .number()
      .int()
      .min(1)
      .default(64)
      .describe('Memory for tail readers, shared by all pchannels (flag --wab-mib, env STREAMSVC_WAB_MIB).'),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe('Log level (flag --log-level).'),
    shutdownTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('How long a graceful shutdown may take before it is forced.'),
  })
  .strict();

export type StandaloneConfig = z.input<typeof standaloneConfigSchema>;
export type ResolvedStandaloneConfig = z.output<typeof standaloneConfigSchema>;

/** A configuration that cannot be used; the message lists every problem with its source. */
export class ConfigError extends CodedError<'INVALID_CONFIG'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', 'INVALID_CONFIG', `[config] ${message}`, false, options);
  }

  static is(e: unknown): e is ConfigError {
    return isCodedError(e, 'config');
  }
}

const FLAGS = {
  'data-dir': { type: 'string' },
  listen: { type: 'string' },
  http: { type: 'string' },
  cluster: { type: 'string' },
  pchannels: { type: 'string' },
  wal: { type: 'string' },
  'wab-mib': { type: 'string' },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ENV: Record<string, keyof StandaloneConfig> = {
  STREAMSVC_DATA_DIR: 'dataDir',
  STREAMSVC_LISTEN: 'listen',
  STREAMSVC_HTTP: 'http',
  STREAMSVC_CLUSTER: 'cluster',
  STREAMSVC_PCHANNELS: 'pchannels',
  STREAMSVC_WAL: 'wal',
  STREAMSVC_WAB_MIB: 'writeAheadBufferMiB',
  STREAMSVC_LOG_LEVEL: 'logLevel',
};

export const USAGE = `usage: streamsvc start [--data-dir DIR] [--listen HOST:PORT] [--http HOST:PORT] [--cluster NAME]
                       [--pchannels N] [--wal woodpecker|memory] [--wab-mib N] [--log-level LEVEL] [--config FILE.json]`;

/**
 * Builds the configuration from command-line arguments, the environment and an optional JSON file.
 * @throws {ConfigError} naming every bad value and where it came from (unknown flags included).
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ResolvedStandaloneConfig & { help: boolean } {
  let flags: ReturnType<typeof parseArgs<{ options: typeof FLAGS; args: string[]; allowPositionals: false }>>['values'];
  try {
    flags = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n${USAGE}`, { cause: e });
  }
  const raw: Record<string, unknown> = {};
  if (flags.config) {
    try {
      Object.assign(raw, JSON.parse(readFileSync(flags.config, 'utf8')) as object);
    } catch (e) {
      throw new ConfigError(`cannot read config file ${flags.config}: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined) raw[key] = env[name];
  const fromFlags: Record<string, unknown> = {
    dataDir: flags['data-dir'],
    listen: flags.listen,
    http: flags.http,
    cluster: flags.cluster,
    pchannels: flags.pchannels,
    wal: flags.wal,
    writeAheadBufferMiB: flags['wab-mib'],
    logLevel: flags['log-level'],
  };
  for (const [key, value] of Object.entries(fromFlags)) if (value !== undefined) raw[key] = value;
  for (const key of ['pchannels', 'writeAheadBufferMiB']) if (typeof raw[key] === 'string') raw[key] = Number(raw[key]);
  const parsed = standaloneConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}\n${USAGE}`);
  }
  return { ...parsed.data, help: flags.help ?? false };
}
