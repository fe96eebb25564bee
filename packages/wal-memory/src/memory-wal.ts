import type { WalBackend, WalBackendDeps, WalCapabilities, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { memoryWalConfigSchema } from './config.js';
import type { MemoryWalConfig } from './config.js';
import { MemoryWalOpener } from './memory-wal-opener.js';
import { memoryMessageIds } from './message-ids.js';

const capabilities: WalCapabilities = Object.freeze({ fencing: 'native', truncate: true, readOnlyOpen: true });

/**
 * The in-memory WAL backend, named `memory`: the reference implementation of the backend SPI, for
 * tests and for running streamsvc without storage. Logs live in a {@link MemoryLogStore} (private to
 * each opener unless the configuration shares one); nothing survives the process.
 *
 * ```ts
 * const registry = WalRegistry.of([memoryWal]);
 * const opener = await registry.createOpener('memory', {}, { logger, clock });
 * ```
 */
export const memoryWal: WalBackend<MemoryWalConfig> = Object.freeze({
  name: 'memory',
  configSchema: memoryWalConfigSchema,
  capabilities,
  messageIds: memoryMessageIds,
  /**
   * Creates an opener. The configuration is validated again, so a direct call is as safe as one
   * through the registry.
   * @throws {WalError} INVALID_CONFIG listing the bad paths.
   */
  async createOpener(config: MemoryWalConfig, deps: WalBackendDeps): Promise<WalOpener> {
    const parsed = memoryWalConfigSchema.safeParse(config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new WalError(WalErrorCode.INVALID_CONFIG, `invalid memory WAL configuration: ${problems.join('; ')}`, {
        cause: parsed.error,
      });
    }
    return new MemoryWalOpener(parsed.data, deps.clock, deps.logger.child({ component: 'wal-memory' }));
  },
});
