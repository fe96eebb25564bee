import { noopLogger, systemClock } from '@streamsvc/common';
import type { WalBackendDeps } from '@streamsvc/wal-core';
import { resolveBackendOptions } from './options.js';
import type { BackendConformanceOptions } from './options.js';
import type { BackendScenarioId } from './scenario-ids.js';
import { SCENARIO_RUNS } from './scenarios/index.js';
import { ScenarioRuntime } from './suite-context.js';

/** The services scenarios pass to `createOpener` unless the options give others: silent, real time. */
export function defaultBackendDeps(): WalBackendDeps {
  return { logger: noopLogger, clock: systemClock };
}

/**
 * Runs one scenario against a backend, outside any test framework, and closes everything it opened.
 * `options.skip` is not consulted: the caller asked for this scenario. This is the jest-agnostic core
 * that {@link describeBackendConformance} wraps; use it from another runner, or to check that the suite
 * catches a deliberately broken backend.
 * @throws {AssertionError} when the backend does not behave as the scenario requires;
 *   {@link WaitTimeoutError} when it does not answer within `waitTimeoutMs`; {@link TypeError} for bad
 *   options; any error the backend raised where the scenario expected success. Cleanup failures are
 *   thrown only when the scenario itself passed.
 */
export async function runBackendScenario<C>(
  options: BackendConformanceOptions<C>,
  id: BackendScenarioId,
): Promise<void> {
  const runtime = new ScenarioRuntime(resolveBackendOptions(options, defaultBackendDeps));
  await runInRuntime(runtime as unknown as ScenarioRuntime<unknown>, id);
}

/** Runs scenario `id` in `runtime`, then closes what it opened. Package-internal. */
export async function runInRuntime(runtime: ScenarioRuntime<unknown>, id: BackendScenarioId): Promise<void> {
  const run = SCENARIO_RUNS[id];
  if (run === undefined) throw new TypeError(`no backend scenario "${String(id)}"`);
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
