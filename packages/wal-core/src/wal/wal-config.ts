import { z } from 'zod';

/** Settings of one WAL (every pchannel of a node shares them). */
export const walConfigSchema = z.object({
  timeTickIntervalMs: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('How often an idle WAL publishes a (not persisted) time tick so readers’ safe time advances.'),
  timeTickPersistIntervalMs: z
    .number()
    .int()
    .min(0)
    .default(20)
    .describe(
      'Longest confirmed data waits for a time tick written to the backend (catch-up readers need one); tail readers get in-memory ticks at once.',
    ),
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024)
    .describe('Largest message accepted (payload + properties); larger inserts are split by the client into a txn.'),
  txnKeepaliveMs: z
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('Keepalive of a transaction whose BeginTxn asks for 0.'),
  writeAheadBuffer: z
    .object({
      capacityBytes: z
        .number()
        .int()
        .min(1)
        .default(64 * 1024 * 1024)
        .describe('Bytes of recent messages kept for tail readers.'),
      keepaliveMs: z.number().int().min(1).default(30_000).describe('Age after which a buffered message is evicted.'),
    })
    .default({ capacityBytes: 64 * 1024 * 1024, keepaliveMs: 30_000 }),
  recoveryCheckpointIntervalMs: z
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      'How often an owner with a checkpoint store moves its recovery checkpoint to the last-confirmed id, bounding the next owner’s replay (0: only at open and graceful close).',
    ),
  appendRetryInitialMs: z.number().int().min(1).default(10).describe('First backoff when the backend is unavailable.'),
  appendRetryMaxMs: z.number().int().min(1).default(5000).describe('Longest backoff between backend append retries.'),
  gracefulCloseTimeoutMs: z
    .number()
    .int()
    .min(0)
    .default(3000)
    .describe('How long close() waits for in-flight appends before closing the backend under them.'),
});

/** WAL settings as callers write them (every field optional). */
export type WalConfig = z.input<typeof walConfigSchema>;
/** WAL settings with defaults applied. */
export type ResolvedWalConfig = z.output<typeof walConfigSchema>;
