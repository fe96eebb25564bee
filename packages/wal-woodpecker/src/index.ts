/**
 * @streamsvc/wal-woodpecker — our implementation of Woodpecker's design as a streamsvc WAL backend:
 * per pchannel a log of segments of CRC-checked blocks, group-committed to local disk (fdatasync) or
 * written as put-if-absent objects, fenced by a fence in the medium plus MetaKv CAS.
 *
 * ```ts
 * import { woodpeckerWal } from '@streamsvc/wal-woodpecker';
 * const opener = await woodpeckerWal.createOpener(
 *   woodpeckerWal.configSchema.parse({ mode: 'local', rootDir: './data/wal' }),
 *   { logger, clock, metaKv },
 * );
 * ```
 */
export { woodpeckerWal } from './woodpecker-wal.js';
export { woodpeckerWalConfigSchema } from './config.js';
export { woodpeckerMessageIds } from './message-ids.js';

export type { WoodpeckerWalConfig, WoodpeckerWalConfigInput } from './config.js';
