import type { WalBackend, WalBackendDeps, WalConfig } from '@streamsvc/wal-core';
import type { WalScenarioId } from './scenario-ids.js';

/** How to run the WAL conformance suite (wal-core's `Wal` over one backend). */
export interface WalConformanceOptions<C> {
  /** The backend under test. */
  readonly backend: WalBackend<C>;
  /**
   * A valid backend configuration. Called once per opener; scenarios reopen a pchannel under a new
   * term through a *new* opener (a node taking it over), so every configuration must reach the same
   * storage.
   */
  readonly config: () => C | Promise<C>;
  /** Services for `createOpener` (and the WAL's logger); default: a no-op logger and the system clock. */
  readonly deps?: () => WalBackendDeps | Promise<WalBackendDeps>;
  /**
   * Operations per pchannel and term in `ordered-delivery` (Milvus: 1000). An operation is one
   * autocommit append or one whole transaction. Other scenarios scale from it. At least 50.
   */
  readonly messageCount?: number;
  /** Concurrent writers per pchannel in `ordered-delivery` (Milvus: 10). At least 1. */
  readonly writers?: number;
  /**
   * Scenarios this backend does not promise, each with the reason (printed when the suite runs). An
   * empty reason or an unknown id is refused at registration.
   */
  readonly skip?: Partial<Record<WalScenarioId, string>>;
  /** How long any single wait may take before the scenario fails; default 10 000 ms. */
  readonly waitTimeoutMs?: number;
  /**
   * WAL settings merged under each scenario's own (a scenario that needs a small write-ahead buffer
   * or a short keepalive sets it itself). Default: 50 ms idle time ticks.
   */
  readonly walConfig?: WalConfig;
  /** Appended to the describe block's title, to tell variants apart (`"with append latency"`). */
  readonly label?: string;
}

/** Defaults and fixed parameters of the WAL suite. */
export const WAL_SUITE_DEFAULTS = {
  messageCount: 1000,
  writers: 10,
  waitTimeoutMs: 10_000,
  /** Pchannels every scenario runs on concurrently (Milvus: 3). */
  channelCount: 3,
  /** Vchannels (collections) per pchannel in the workload scenarios. */
  vchannelCount: 3,
  /** Keepalive of the transactions the workload commits (Milvus: 1000 ms; longer here, because on a loaded
   * 2-core CI machine a writer can stall for over a second and an expired txn is then a false failure). */
  txnKeepaliveMs: 5000,
  /** Keepalive of the transactions the workload abandons, short so that they do expire mid-run. */
  abandonedKeepaliveMs: 300,
  /** The small write-ahead buffer of `ordered-delivery` (Milvus: 10 k bytes, 500 ms). */
  smallBuffer: { capacityBytes: 10 * 1024, keepaliveMs: 500 },
  /** WAL settings every scenario starts from. */
  walConfig: { timeTickIntervalMs: 50 } satisfies WalConfig,
} as const;

/** Options with defaults applied and checked. */
export interface ResolvedWalOptions<C> {
  readonly backend: WalBackend<C>;
  readonly config: () => C | Promise<C>;
  readonly deps: () => WalBackendDeps | Promise<WalBackendDeps>;
  readonly messageCount: number;
  readonly writers: number;
  readonly waitTimeoutMs: number;
  readonly walConfig: WalConfig;
}

/**
 * Applies defaults and checks the options a backend author passed.
 * @throws {TypeError} for a message count below 50, fewer than 1 writer, or a non-positive wait timeout.
 */
export function resolveWalOptions<C>(
  options: WalConformanceOptions<C>,
  defaultDeps: () => WalBackendDeps,
): ResolvedWalOptions<C> {
  const messageCount = options.messageCount ?? WAL_SUITE_DEFAULTS.messageCount;
  if (!Number.isSafeInteger(messageCount) || messageCount < 50) {
    throw new TypeError(`messageCount must be an integer of at least 50, got ${messageCount}`);
  }
  const writers = options.writers ?? WAL_SUITE_DEFAULTS.writers;
  if (!Number.isSafeInteger(writers) || writers < 1) {
    throw new TypeError(`writers must be a positive integer, got ${writers}`);
  }
  const waitTimeoutMs = options.waitTimeoutMs ?? WAL_SUITE_DEFAULTS.waitTimeoutMs;
  if (!Number.isFinite(waitTimeoutMs) || waitTimeoutMs <= 0) {
    throw new TypeError(`waitTimeoutMs must be a positive number, got ${waitTimeoutMs}`);
  }
  return {
    backend: options.backend,
    config: options.config,
    deps: options.deps ?? defaultDeps,
    messageCount,
    writers,
    waitTimeoutMs,
    walConfig: { ...WAL_SUITE_DEFAULTS.walConfig, ...options.walConfig },
  };
}
