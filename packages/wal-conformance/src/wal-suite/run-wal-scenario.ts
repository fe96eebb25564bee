import { defaultBackendDeps } from '../backend-suite/run-backend-scenario.js';
import { resolveWalOptions } from './options.js';
import type { WalConformanceOptions } from './options.js';
import type { WalScenarioId } from './scenario-ids.js';
import { WAL_SCENARIO_RUNS } from './scenarios/index.js';
import { WalScenarioRuntime } from './wal-runtime.js';

/**
 * Runs one WAL scenario against a backend, outside any test framework, and closes everything it opened.
 * `options.skip` is not consulted: the caller asked for this scenario. This is the jest-agnostic core
 * that {@link describeWalConformance} wraps.
 * @throws {AssertionError} when the WAL over this backend does not behave as the scenario requires;
 *   {@link WaitTimeoutError} when something does not answer within `waitTimeoutMs`; {@link TypeError}
 *   for bad options; any error raised where the scenario expected success. Cleanup failures are thrown
 *   only when the scenario itself passed.
 */
export async function runWalScenario<C>(options: WalConformanceOptions<C>, id: WalScenarioId): Promise<void> {
  const runtime = new WalScenarioRuntime(resolveWalOptions(options, defaultBackendDeps));
  await runInWalRuntime(runtime as unknown as WalScenarioRuntime<unknown>, id);
}

/** Runs scenario `id` in `runtime`, then closes what it opened. Package-internal. */
export async function runInWalRuntime(runtime: WalScenarioRuntime<unknown>, id: WalScenarioId): Promise<void> {
  const run = WAL_SCENARIO_RUNS[id];
  if (run === undefined) throw new TypeError(`no WAL scenario "${String(id)}"`);
  let failure: { readonly error: unknown } | undefined;
  try {
    await run(runtime);
  } catch (error) {
    failure = { error };
  }
  try {
    await runtime.closeAll();
  } catch (error) {
    // The scenario's own failure explains more than the cleanup that followed it.
    if (failure === undefined) throw error;
  }
  if (failure !== undefined) throw failure.error;
}
