/**
 * @streamsvc/wal-conformance — the shared test suites of streamsvc WALs. Every backend runs the backend
 * suite (Milvus `walimpls` test framework scenarios plus our fencing, lifecycle and error contracts)
 * and the WAL suite (wal-core's `Wal` over the backend: Milvus `wal_test.go` strengthened — ordering,
 * transactions, invariants, recovery, fencing, close):
 *
 * ```ts
 * import { describeBackendConformance, describeWalConformance } from '@streamsvc/wal-conformance';
 * describeBackendConformance({ backend: memoryWal, config: () => ({ store }) });
 * describeWalConformance({ backend: memoryWal, config: () => ({ store }) });
 * ```
 *
 * Scenarios are plain async functions (`runBackendScenario`, `runWalScenario`) that throw on failure;
 * the `describe*` functions bind them to jest's globals.
 */
export { describeBackendConformance } from './backend-suite/describe-backend-conformance.js';
export { runBackendScenario, defaultBackendDeps } from './backend-suite/run-backend-scenario.js';
export { BACKEND_SCENARIOS, BACKEND_SCENARIO_IDS, isBackendScenarioId } from './backend-suite/scenario-ids.js';
export { BACKEND_SUITE_DEFAULTS } from './backend-suite/options.js';
export { planBackendScenarios, describeSkips, CAPABILITY_SKIP_REASONS } from './backend-suite/skips.js';
export { describeWalConformance } from './wal-suite/describe-wal-conformance.js';
export { runWalScenario } from './wal-suite/run-wal-scenario.js';
export { WAL_SCENARIOS, WAL_SCENARIO_IDS, isWalScenarioId } from './wal-suite/scenario-ids.js';
export { WAL_SUITE_DEFAULTS } from './wal-suite/options.js';
export { planWalScenarios, describeWalSkips } from './wal-suite/skips.js';
export { AppendGate } from './wal-suite/append-gate.js';
export { testTsoSource } from './wal-suite/test-tso.js';
export { within, sleep, settlesWithin, WaitTimeoutError } from './support/within.js';
export {
  expectRejection,
  expectWalError,
  expectStreamingError,
  expectStreamingErrorThrown,
} from './support/expect-rejection.js';
export { uniquePChannels } from './support/pchannel-names.js';
export { describeError } from './support/describe-error.js';

export type { BackendConformanceOptions } from './backend-suite/options.js';
export type { BackendScenarioId, BackendScenarioInfo } from './backend-suite/scenario-ids.js';
export type { BackendSuiteContext } from './backend-suite/suite-context.js';
export type { PlannedScenario } from './backend-suite/skips.js';
export type { WalConformanceOptions } from './wal-suite/options.js';
export type { WalScenarioId, WalScenarioInfo } from './wal-suite/scenario-ids.js';
export type { PlannedWalScenario } from './wal-suite/skips.js';
export type { GatePhase } from './wal-suite/append-gate.js';
