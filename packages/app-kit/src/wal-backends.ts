import { MessageIdCodecs } from '@streamsvc/message';
import { WalRegistry } from '@streamsvc/wal-core';
import type { WalBackendDeps, WalOpener } from '@streamsvc/wal-core';
import { kafkaWal } from '@streamsvc/wal-kafka';
import { memoryWal } from '@streamsvc/wal-memory';
import { pulsarWal } from '@streamsvc/wal-pulsar';
import { woodpeckerWal } from '@streamsvc/wal-woodpecker';
import { z } from 'zod';

/** The WAL backends every server app can run on (`--wal`). */
export const WAL_NAMES = ['woodpecker', 'kafka', 'pulsar', 'memory'] as const;
export type WalName = (typeof WAL_NAMES)[number];

/** Every backend, for opening WALs by name. */
export const walBackends: WalRegistry = WalRegistry.of([woodpeckerWal, kafkaWal, pulsarWal, memoryWal]);

/** Parsers of every backend's message ids (what a client of any server needs). */
export function allMessageIdCodecs(): MessageIdCodecs {
  return MessageIdCodecs.of(walBackends.names.map((name) => walBackends.get(name).messageIds));
}

const KAFKA_BROKERS = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;

/** The settings of the broker backends, for an app's config schema (spread into its `z.object`). */
export const walBackendSettings = {
  kafkaBrokers: z
    .string()
    .regex(KAFKA_BROKERS, 'expected host:port[,host:port...]')
    .optional()
    .describe('Kafka bootstrap brokers, comma-separated; required with --wal kafka (flag --kafka-brokers).'),
  kafkaTopicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,48}$/, 'letters, digits, ".", "_" and "-", at most 48')
    .default('')
    .describe('Prefix of the Kafka topic of every pchannel (flag --kafka-topic-prefix).'),
  pulsarUrl: z
    .string()
    .regex(/^pulsar(\+ssl)?:\/\/\S+$/, 'expected pulsar://host:port')
    .optional()
    .describe(
      'Pulsar service URL; required with --wal pulsar, which also needs the optional pulsar-client package (flag --pulsar-url).',
    ),
};

/** The broker settings as the loader reads them. */
export interface WalBackendSettings {
  readonly kafkaBrokers?: string | undefined;
  readonly kafkaTopicPrefix: string;
  readonly pulsarUrl?: string | undefined;
}

/** The flags of {@link walBackendSettings}, for an app's flag table. */
export const walBackendFlags = {
  'kafka-brokers': { key: 'kafkaBrokers', valueName: 'HOST:PORT,...' },
  'kafka-topic-prefix': { key: 'kafkaTopicPrefix', valueName: 'PREFIX' },
  'pulsar-url': { key: 'pulsarUrl', valueName: 'URL' },
} as const;

/**
 * The problems of a configuration whose `--wal` needs a setting it lacks, as zod issues (call from the
 * app schema's `superRefine`).
 */
export function walBackendIssues(
  wal: WalName,
  settings: WalBackendSettings,
): { readonly path: string[]; readonly message: string }[] {
  if (wal === 'kafka' && settings.kafkaBrokers === undefined) {
    return [{ path: ['kafkaBrokers'], message: 'required with --wal kafka' }];
  }
  if (wal === 'pulsar' && settings.pulsarUrl === undefined) {
    return [{ path: ['pulsarUrl'], message: 'required with --wal pulsar' }];
  }
  return [];
}

/**
 * Creates the opener of backend `wal`. `woodpecker` is the caller's Woodpecker configuration (local
 * directory or object store).
 * @throws {WalError} from the backend: INVALID_CONFIG (e.g. pulsar-client not installed), UNAVAILABLE.
 */
export function openWalBackend(
  wal: WalName,
  settings: WalBackendSettings & { readonly woodpecker: Record<string, unknown> },
  deps: WalBackendDeps,
): Promise<WalOpener> {
  const config =
    wal === 'woodpecker'
      ? settings.woodpecker
      : wal === 'kafka'
        ? { brokers: settings.kafkaBrokers!.split(','), topicPrefix: settings.kafkaTopicPrefix }
        : wal === 'pulsar'
          ? { serviceUrl: settings.pulsarUrl! }
          : {};
  return walBackends.createOpener(wal, config, deps);
}
