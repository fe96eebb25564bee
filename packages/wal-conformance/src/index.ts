/**
 * @streamsvc/wal-conformance — the shared test suites of streamsvc WALs. Every backend runs the backend
 * suite (Milvus `walimpls` test framework scenarios plus our fencing, lifecycle and error contracts):
 *
 * ```ts
 * import { describeBackendConformance } from '@streamsvc/wal-conformance';
 * describeBackendConformance({ backend: memoryWal, config: () => ({ store }) });
 * ```
 *
 * Scenarios are plain async functions (`runBackendScenario`) that throw on failure; the `describe*`
 * functions bind them to jest's globals.
 */
export { describeBackendConformance } from './backend-suite/describe-backend-conformance.js';
export { runBackendScenario, defaultBackendDeps } from './backend-suite/run-backend-scenario.js';
export { BACKEND_SCENARIOS, BACKEND_SCENARIO_IDS, isBackendScenarioId } from './backend-suite/scenario-ids.js';
export { BACKEND_SUITE_DEFAULTS } from './backend-suite/options.js';
export { planBackendScenarios, describeSkips, CAPABILITY_SKIP_REASONS } from './backend-suite/skips.js';
export { within, sleep, settlesWithin, WaitTimeoutError } from './support/within.js';
export { expectRejection, expectWalError } from './support/expect-rejection.js';
export { uniquePChannels } from './support/pchannel-names.js';
export { describeError } from './support/describe-error.js';

export type { BackendConformanceOptions } from './backend-suite/options.js';
export type { BackendScenarioId, BackendScenarioInfo } from './backend-suite/scenario-ids.js';
export type { BackendSuiteContext } from './backend-suite/suite-context.js';
export type { PlannedScenario } from './backend-suite/skips.js';
