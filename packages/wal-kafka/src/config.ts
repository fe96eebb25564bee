import { z } from 'zod';

// host:port with a port in 1..65535; IPv6 literals in brackets ("[::1]:9092").
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/**
 * Configuration of the Kafka backend. Only `brokers` is required; the defaults suit a real cluster
 * (tests against the librdkafka mock shorten `fetchMaxWaitMs`, see the README).
 */
export const kafkaWalConfigSchema = z.strictObject({
  brokers: z
    .array(
      z
        .string()
        .regex(BROKER, 'expected host:port')
        .refine((b) => {
          const port = Number(b.slice(b.lastIndexOf(':') + 1));
          return port >= 1 && port <= 65_535;
        }, 'port must be 1..65535'),
    )
    .min(1)
    .describe('Bootstrap brokers as host:port; the client discovers the rest of the cluster from them.'),
  clientId: z
    .string()
    .min(1)
    .max(200)
    .default('streamsvc-wal')
    .describe('Kafka client id of the producer and of every reader (readers append `-<read name>`).'),
  topicPrefix: z
    .string()
    .max(48)
    .regex(/^[A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-" are allowed in Kafka topic names')
    .default('')
    .describe(
      'Prefix of every topic name: pchannel `by-dev-dml_0` is topic `<topicPrefix>by-dev-dml_0`, partition 0. Empty = the pchannel name itself (as Milvus does).',
    ),
  allowAutoTopicCreation: z
    .boolean()
    .default(true)
    .describe(
      'Let metadata requests create a missing topic (broker setting `auto.create.topics.enable` must allow it). false: opening a pchannel whose topic does not exist fails with UNAVAILABLE (not retriable) until an operator creates it.',
    ),
  lingerMs: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(0)
    .describe(
      'How long the first append of an idle pchannel waits for more to batch with it, in ms. 0 = send at the next turn of the event loop; appends arriving while a batch is in flight always ride the next batch (group commit).',
    ),
  maxBatchRecords: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe('Most records sent in one produce request.'),
  maxBatchBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024)
    .describe(
      'Most record bytes sent in one produce request (a single larger record still goes alone, up to maxMessageBytes).',
    ),
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1_000_000)
    .describe(
      "Largest encoded message accepted by append; larger ones reject with INVALID_ARGUMENT before anything is sent. Keep it at or below the broker's `message.max.bytes` (default 1048588).",
    ),
  requestTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(300_000)
    .default(30_000)
    .describe('Timeout of one Kafka request (produce, metadata, list offsets, fetch beyond its wait), in ms.'),
  connectionTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(3_000)
    .describe('Timeout of one TCP connection attempt to a broker, in ms.'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(3)
    .describe(
      "Client-side retries of a failed request before the call fails with UNAVAILABLE (the WAL above retries appends itself). Without idempotence a retried produce may store a record twice; see the README's fencing section.",
    ),
  retryInitialMs: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe('First back-off between client-side retries, in ms; it doubles per retry (with jitter).'),
  fetchMaxWaitMs: z
    .number()
    .int()
    .min(1)
    .max(30_000)
    .default(500)
    .describe(
      'How long the broker may hold a read at the tail before answering empty, in ms (Fetch MaxWaitTime). A real broker answers as soon as a record arrives; the librdkafka mock always waits the full time, so it bounds tail latency there.',
    ),
  fetchMaxBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Most bytes one fetch returns (a first record larger than this is still returned whole).'),
  readRetryTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(120_000)
    .describe(
      'How long a reader keeps retrying a broker that fails (back-off 50 ms doubling to 2 s) before its next() rejects with UNAVAILABLE.',
    ),
  transactionalFencing: z
    .boolean()
    .default(false)
    .describe(
      'EXPERIMENTAL, untested against a real broker: write through a transactional producer whose transactional id derives from the topic, so that a newer owner opening the pchannel bumps the producer epoch and the older writer fails with FENCED. Needs a broker with transactions (not the librdkafka 2.0.2 mock). Readers then read committed records only. The capability stays `term-only` (see the README).',
    ),
  transactionalIdPrefix: z
    .string()
    .max(100)
    .default('streamsvc-wal-')
    .describe('Prefix of the transactional id (`<prefix><topic>`) when transactionalFencing is on.'),
});

/** Validated configuration of the Kafka backend (what `kafkaWalConfigSchema` outputs). */
export type KafkaWalConfig = z.output<typeof kafkaWalConfigSchema>;
/** Configuration as written by hand, before defaults (what `kafkaWalConfigSchema` accepts). */
export type KafkaWalConfigInput = z.input<typeof kafkaWalConfigSchema>;

/** The Kafka topic of `pchannel`. */
export function topicOf(config: Pick<KafkaWalConfig, 'topicPrefix'>, pchannel: string): string {
  return `${config.topicPrefix}${pchannel}`;
}
