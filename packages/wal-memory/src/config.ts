import { z } from 'zod';
import { MemoryLogStore } from './memory-log-store.js';

/**
 * Configuration of the memory backend. Everything is optional: `{}` gives a fast, unlimited log in a
 * store private to the opener.
 */
export const memoryWalConfigSchema = z.strictObject({
  appendLatencyMs: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(0)
    .describe(
      'Simulated storage latency per append, in ms. Each append waits a random 50–150 % of it, so concurrent appends complete (and get ids) out of call order, as on a real backend. 0 = complete immediately.',
    ),
  maxRecordsPerChannel: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'Retention limit: beyond this many records per pchannel the oldest are dropped, as if truncated (readers positioned before them continue at the first kept record). Unset = unlimited.',
    ),
  store: z
    .custom<MemoryLogStore>((value) => value instanceof MemoryLogStore, {
      message: 'expected a MemoryLogStore instance',
    })
    .optional()
    .describe(
      'The store holding the logs. Openers given the same store see the same pchannels (several nodes on one storage system); unset = a new store private to the opener.',
    ),
});

/** Validated configuration of the memory backend (what `memoryWalConfigSchema` outputs). */
export type MemoryWalConfig = z.output<typeof memoryWalConfigSchema>;
/** Configuration as written by hand, before defaults (what `memoryWalConfigSchema` accepts). */
export type MemoryWalConfigInput = z.input<typeof memoryWalConfigSchema>;
