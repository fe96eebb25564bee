/**
 * @streamsvc/wal-memory — the in-memory reference WAL backend: native fencing, truncation,
 * tail-following scanners, optional simulated latency. For tests and as the model backend.
 *
 * ```ts
 * import { memoryWal } from '@streamsvc/wal-memory';
 * const opener = await memoryWal.createOpener({ appendLatencyMs: 0 }, { logger, clock });
 * ```
 */
export { memoryWal } from './memory-wal.js';
export { memoryWalConfigSchema } from './config.js';
export { MemoryLogStore } from './memory-log-store.js';
export { memoryMessageIds } from './message-ids.js';

export type { MemoryWalConfig, MemoryWalConfigInput } from './config.js';
export type { MemoryLogStats } from './memory-log.js';
