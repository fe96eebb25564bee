import { z } from 'zod';

/**
 * The settings of a coordinator's broadcast deduplication (how long, and how many, finished broadcasts
 * answer their clients' retries), for an app's config schema (spread into its `z.object`). Config file
 * only: give them `false` in the loader's names table.
 */
export const broadcastDedupSettings = {
  broadcastDedupWindowMs: z
    .number()
    .int()
    .min(0)
    .default(600_000)
    .describe(
      'How long a finished broadcast answers retries of its client request instead of being broadcast again (config file only).',
    ),
  broadcastDedupMaxEntries: z
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      'At most this many finished broadcasts are remembered for retries, the oldest forgotten first (config file only).',
    ),
};

/** The dedup settings as the loader reads them. */
export interface BroadcastDedupSettings {
  readonly broadcastDedupWindowMs: number;
  readonly broadcastDedupMaxEntries: number;
}

/** The coordinator's `dedup` option (`BroadcastDedupOptions`) from the app's settings. */
export function broadcastDedupOptions(settings: BroadcastDedupSettings): {
  readonly windowMs: number;
  readonly maxFinished: number;
} {
  return { windowMs: settings.broadcastDedupWindowMs, maxFinished: settings.broadcastDedupMaxEntries };
}
