import { z } from 'zod';
import type { PulsarPort } from './pulsar-port.js';

// A port is recognised structurally: implementations come from this package (InMemoryPulsar, the SDK
// adapter) or from a test's own fake, possibly from another copy of the package.
function isPulsarPort(value: unknown): value is PulsarPort {
  if (typeof value !== 'object' || value === null) return false;
  const port = value as Record<string, unknown>;
  return ['createProducer', 'createReader', 'lastMessage', 'truncate', 'close'].every(
    (m) => typeof port[m] === 'function',
  );
}

const NAME = /^[A-Za-z0-9_.=-]+$/;

/**
 * Configuration of the Pulsar backend. Either `serviceUrl` (the real broker, through the optional
 * `pulsar-client` SDK) or `port` (any {@link PulsarPort}, e.g. an `InMemoryPulsar`) must be given.
 */
export const pulsarWalConfigSchema = z
  .strictObject({
    serviceUrl: z
      .string()
      .regex(/^pulsar(\+ssl)?:\/\/[^\s]+$/, 'expected pulsar://host:port or pulsar+ssl://host:port')
      .optional()
      .describe('Broker service URL, e.g. pulsar://localhost:6650. Required unless `port` is given.'),
    tenant: z.string().regex(NAME).default('public').describe('Pulsar tenant of the pchannel topics.'),
    namespace: z.string().regex(NAME).default('default').describe('Pulsar namespace of the pchannel topics.'),
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.=-]*$/)
      .default('')
      .describe(
        'Prepended to the pchannel name to form the topic name: persistent://<tenant>/<namespace>/<topicPrefix><pchannel>.',
      ),
    operationTimeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(600_000)
      .default(30_000)
      .describe(
        'Timeout of client operations (lookups, producer and reader creation); the SDK takes whole seconds, rounded up.',
      ),
    sendTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(30_000)
      .describe(
        'How long a publish may wait for the broker before failing with UNAVAILABLE (retried by the WAL); 0 = no timeout.',
      ),
    readWaitMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(1_000)
      .describe(
        'SDK readers wait at the tail in long polls of this length (readNext with a timeout), so that closing a scanner never waits longer; not a busy poll.',
      ),
    truncateSubscription: z
      .string()
      .regex(NAME)
      .default('streamsvc-truncate')
      .describe(
        'Durable subscription used as the truncation cursor: truncate(id) acknowledges cumulatively up to before id on it.',
      ),
    authToken: z.string().min(1).optional().describe('JWT for token authentication; unset = no authentication.'),
    port: z
      .custom<PulsarPort>(isPulsarPort, {
        message: 'expected a PulsarPort (createProducer, createReader, lastMessage, truncate, close)',
      })
      .optional()
      .describe(
        'A PulsarPort to use instead of the SDK (InMemoryPulsar for tests); openers given the same port see the same topics. The opener does not close it.',
      ),
  })
  .superRefine((config, ctx) => {
    if (config.serviceUrl === undefined && config.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['serviceUrl'], message: 'serviceUrl is required unless a port is given' });
    }
  });

/** Validated configuration of the Pulsar backend (what `pulsarWalConfigSchema` outputs). */
export type PulsarWalConfig = z.output<typeof pulsarWalConfigSchema>;
/** Configuration as written by hand, before defaults. */
export type PulsarWalConfigInput = z.input<typeof pulsarWalConfigSchema>;

/** The topic of `pchannel`: `persistent://<tenant>/<namespace>/<topicPrefix><pchannel>`. */
export function topicOf(config: PulsarWalConfig, pchannel: string): string {
  return `persistent://${config.tenant}/${config.namespace}/${config.topicPrefix}${pchannel}`;
}
