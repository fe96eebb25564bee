import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import type { MetaKv } from '@streamsvc/metastore';
import { isValidKey } from '@streamsvc/objectstore';
import type { ObjectStore } from '@streamsvc/objectstore';
import type { WalBackend, WalBackendDeps, WalCapabilities, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { resolveSettings, woodpeckerWalConfigSchema } from './config.js';
import type { WoodpeckerWalConfig } from './config.js';
import { asWalError } from './errors.js';
import { LocalSegmentStore } from './local-segment-store.js';
import { woodpeckerMessageIds } from './message-ids.js';
import { ObjectSegmentStore } from './object-segment-store.js';
import { WoodpeckerWalOpener } from './woodpecker-wal-opener.js';

const capabilities: WalCapabilities = Object.freeze({ fencing: 'native', truncate: true, readOnlyOpen: true });

/**
 * The woodpecker WAL backend, named `woodpecker`: our implementation of Woodpecker's design. A log per
 * pchannel is a chain of segments; a segment is a run of CRC-checked blocks, each one group-committed
 * write — a region of an fdatasync'ed append file (`mode: 'local'`) or one put-if-absent object
 * (`mode: 'object'`). Fencing is native: a fence in the medium plus CAS on the log's metadata.
 *
 * Dependencies: `deps.metaKv` (a MetaKv: EmbeddedMetaKv for one process, EtcdMetaKv for a cluster)
 * always; `deps.objectStore` (an ObjectStore with atomic put-if-absent) in object mode.
 *
 * ```ts
 * const registry = WalRegistry.of([woodpeckerWal]);
 * const opener = await registry.createOpener('woodpecker', { mode: 'local', rootDir: './data/wal' }, { logger, clock, metaKv });
 * ```
 */
export const woodpeckerWal: WalBackend<WoodpeckerWalConfig> = Object.freeze({
  name: 'woodpecker',
  configSchema: woodpeckerWalConfigSchema,
  capabilities,
  messageIds: woodpeckerMessageIds,
  /**
   * Creates an opener. The configuration is validated again, so a direct call is as safe as one
   * through the registry; local mode creates `rootDir`.
   * @throws {WalError} INVALID_CONFIG listing the bad paths, or naming a missing or unfit dependency
   *   (no `metaKv`; in object mode no `objectStore`, or one without atomic put-if-absent unless
   *   `allowNonAtomicPutIfAbsent`); UNAVAILABLE when `rootDir` cannot be created.
   */
  async createOpener(config: WoodpeckerWalConfig, deps: WalBackendDeps): Promise<WalOpener> {
    const parsed = woodpeckerWalConfigSchema.safeParse(config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw invalidConfig(`invalid woodpecker WAL configuration: ${problems.join('; ')}`, parsed.error);
    }
    const settings = resolveSettings(parsed.data);
    const metaKv = deps.metaKv;
    if (!isMetaKv(metaKv)) {
      throw invalidConfig(
        "the woodpecker WAL needs deps.metaKv: a MetaKv (EmbeddedMetaKv or EtcdMetaKv) to keep its logs' metadata and fences in",
      );
    }
    const logger = deps.logger.child({ component: 'wal-woodpecker', mode: settings.mode });
    if (settings.mode === 'local') {
      const rootDir = path.resolve(settings.rootDir);
      try {
        await mkdir(rootDir, { recursive: true });
      } catch (e) {
        throw asWalError(e, `woodpecker WAL: create rootDir ${rootDir}`);
      }
      const store = new LocalSegmentStore({
        rootDir,
        preallocateBytes: settings.preallocateBytes,
        readAheadBytes: settings.readAheadBytes,
        clock: deps.clock,
      });
      return new WoodpeckerWalOpener({
        settings,
        metaKv,
        store,
        location: `local:${rootDir}`,
        clock: deps.clock,
        logger,
      });
    }
    const objectStore = deps.objectStore;
    if (!isObjectStore(objectStore)) {
      throw invalidConfig(
        'the woodpecker WAL in object mode needs deps.objectStore: an ObjectStore (LocalObjectStore or S3ObjectStore)',
      );
    }
    if (!objectStore.capabilities.atomicPutIfAbsent && !settings.allowNonAtomicPutIfAbsent) {
      throw invalidConfig(
        `the ObjectStore (${objectStore.kind}) has no atomic putIfAbsent, which fences stale writers; use a store with conditional writes, or set allowNonAtomicPutIfAbsent to accept the risk`,
      );
    }
    if (!isValidKey(`${settings.prefix}/x`)) {
      throw invalidConfig(`prefix ${JSON.stringify(settings.prefix)} cannot start a valid object key`);
    }
    const store = new ObjectSegmentStore({
      store: objectStore,
      prefix: settings.prefix,
      putRetries: settings.putRetries,
      readAheadBlocks: settings.readAheadBlocks,
      clock: deps.clock,
    });
    return new WoodpeckerWalOpener({
      settings,
      metaKv,
      store,
      location: `object:${settings.prefix}`,
      clock: deps.clock,
      logger,
    });
  },
});

function invalidConfig(message: string, cause?: unknown): WalError {
  return new WalError(WalErrorCode.INVALID_CONFIG, message, cause === undefined ? undefined : { cause });
}

// Structural checks: the SPI types the dependencies loosely, and a copy of the metastore or
// objectstore package may differ in identity but not in shape.
function isMetaKv(value: unknown): value is MetaKv {
  const v = value as Partial<Record<keyof MetaKv, unknown>> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.get === 'function' &&
    typeof v.txn === 'function' &&
    typeof v.list === 'function'
  );
}

function isObjectStore(value: unknown): value is ObjectStore {
  const v = value as Partial<Record<keyof ObjectStore, unknown>> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.putIfAbsent === 'function' &&
    typeof v.get === 'function' &&
    typeof v.list === 'function' &&
    typeof v.capabilities === 'object'
  );
}
