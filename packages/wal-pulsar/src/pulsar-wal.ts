import type { WalBackend, WalBackendDeps, WalCapabilities, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { pulsarWalConfigSchema } from './config.js';
import type { PulsarWalConfig } from './config.js';
import { pulsarMessageIds } from './pulsar-message-id.js';
import { createSdkPulsarPort } from './pulsar-sdk-port.js';
import type { PulsarSdkLoader } from './pulsar-sdk-port.js';
import { PulsarWalOpener } from './pulsar-wal-opener.js';

const capabilities: WalCapabilities = Object.freeze({ fencing: 'native', truncate: true, readOnlyOpen: true });

/**
 * Builds the Pulsar backend. `loadSdk` replaces the dynamic `import('pulsar-client')` (tests pass a
 * fake SDK); everything else comes from the configuration.
 */
export function createPulsarWal(options: { readonly loadSdk?: PulsarSdkLoader } = {}): WalBackend<PulsarWalConfig> {
  return Object.freeze({
    name: 'pulsar',
    configSchema: pulsarWalConfigSchema,
    capabilities,
    messageIds: pulsarMessageIds,
    /**
     * Creates an opener. With `port` in the configuration it uses that port (and does not close it);
     * otherwise it loads `pulsar-client` and connects to `serviceUrl`.
     * @throws {WalError} INVALID_CONFIG listing the bad paths, or when `pulsar-client` cannot be loaded
     *   (the message says how to install it).
     */
    async createOpener(config: PulsarWalConfig, deps: WalBackendDeps): Promise<WalOpener> {
      const parsed = pulsarWalConfigSchema.safeParse(config);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
        throw new WalError(WalErrorCode.INVALID_CONFIG, `invalid pulsar WAL configuration: ${problems.join('; ')}`, {
          cause: parsed.error,
        });
      }
      const c = parsed.data;
      const logger = deps.logger.child({ component: 'wal-pulsar' });
      if (c.port !== undefined) return new PulsarWalOpener(c, c.port, false, logger);
      const port = await createSdkPulsarPort(
        {
          serviceUrl: c.serviceUrl!,
          operationTimeoutMs: c.operationTimeoutMs,
          sendTimeoutMs: c.sendTimeoutMs,
          readWaitMs: c.readWaitMs,
          truncateSubscription: c.truncateSubscription,
          authToken: c.authToken,
        },
        { logger, ...(options.loadSdk === undefined ? {} : { loadSdk: options.loadSdk }) },
      );
      return new PulsarWalOpener(c, port, true, logger);
    },
  });
}

/**
 * The Pulsar WAL backend, named `pulsar`: a topic per pchannel, an ExclusiveWithFencing producer per
 * owner, readers from any id, truncation by a cursor. Needs the optional peer `pulsar-client` unless
 * configured with a `port` (e.g. `InMemoryPulsar`).
 *
 * ```ts
 * const registry = WalRegistry.of([pulsarWal]);
 * const opener = await registry.createOpener('pulsar', { serviceUrl: 'pulsar://localhost:6650' }, { logger, clock });
 * ```
 */
export const pulsarWal: WalBackend<PulsarWalConfig> = createPulsarWal();
