import type { WalBackend, WalBackendDeps } from '@streamsvc/wal-core';
import type { BackendSuiteContext } from './suite-context.js';
import type { BackendScenarioId } from './scenario-ids.js';

/** How to run the backend conformance suite against one backend. */
export interface BackendConformanceOptions<C> {
  /** The backend under test. */
  readonly backend: WalBackend<C>;
  /**
   * A valid configuration. Called once per opener the suite creates; scenarios that reopen a pchannel
   * do so through a *new* opener (as a node taking over a pchannel would), so every configuration
   * returned must reach the same storage.
   */
  readonly config: () => C | Promise<C>;
  /** Services for `createOpener`; default: a no-op logger and the system clock. */
  readonly deps?: () => WalBackendDeps | Promise<WalBackendDeps>;
  /** Records written per pchannel and term, the last of them a marker (Milvus: 100). At least 4. */
  readonly messageCount?: number;
  /**
   * Scenarios this backend does not promise, each with the reason (printed when the suite runs). An
   * empty reason is refused: reviewers must see why.
   */
  readonly skip?: Partial<Record<BackendScenarioId, string>>;
  /**
   * A configuration the backend's schema rejects, and the path the error must name (relative to the
   * backend, e.g. `brokers.0`). Default: a string where an object belongs, reported at the root.
   */
  readonly invalidConfig?: { readonly config: unknown; readonly path: string };
  /** How long any single wait on the backend may take before the scenario fails; default 10 000 ms. */
  readonly waitTimeoutMs?: number;
  /**
   * Registers backend-specific tests inside the suite's `describe` block. Resources created through
   * the context are closed after each test.
   */
  readonly additionalTests?: (ctx: BackendSuiteContext<C>) => void;
}

/** Defaults of {@link BackendConformanceOptions}. */
export const BACKEND_SUITE_DEFAULTS = {
  messageCount: 100,
  waitTimeoutMs: 10_000,
  /** Pchannels every scenario runs on concurrently (Milvus: 3). */
  channelCount: 3,
  /** How long a `latest` reader must stay quiet (Milvus: 1 s). */
  latestQuietMs: 1_000,
  /** Concurrent writers per pchannel (Milvus: 5). */
  writerConcurrency: 5,
} as const;

/** Options with defaults applied and checked. */
export interface ResolvedBackendOptions<C> {
  readonly backend: WalBackend<C>;
  readonly config: () => C | Promise<C>;
  readonly deps: () => WalBackendDeps | Promise<WalBackendDeps>;
  readonly messageCount: number;
  readonly waitTimeoutMs: number;
  readonly invalidConfig: { readonly config: unknown; readonly path: string };
}

/**
 * Applies defaults and checks the options a backend author passed.
 * @throws {TypeError} for a message count below 4 or a non-positive wait timeout.
 */
export function resolveBackendOptions<C>(
  options: BackendConformanceOptions<C>,
  defaultDeps: () => WalBackendDeps,
): ResolvedBackendOptions<C> {
  const messageCount = options.messageCount ?? BACKEND_SUITE_DEFAULTS.messageCount;
  if (!Number.isSafeInteger(messageCount) || messageCount < 4) {
    throw new TypeError(`messageCount must be an integer of at least 4, got ${messageCount}`);
  }
  const waitTimeoutMs = options.waitTimeoutMs ?? BACKEND_SUITE_DEFAULTS.waitTimeoutMs;
  if (!Number.isFinite(waitTimeoutMs) || waitTimeoutMs <= 0) {
    throw new TypeError(`waitTimeoutMs must be a positive number, got ${waitTimeoutMs}`);
  }
  return {
    backend: options.backend,
    config: options.config,
    deps: options.deps ?? defaultDeps,
    messageCount,
    waitTimeoutMs,
    invalidConfig: options.invalidConfig ?? { config: 'not a configuration object', path: '' },
  };
}
