import { resolveBackendOptions } from './options.js';
import type { BackendConformanceOptions } from './options.js';
import { defaultBackendDeps, runInRuntime } from './run-backend-scenario.js';
import { describeSkips, planBackendScenarios } from './skips.js';
import { ScenarioRuntime } from './suite-context.js';

// A scenario makes many bounded waits in a row; this backstop only catches a scenario that keeps
// making progress forever, so it is a multiple of the single-wait bound.
const WAITS_PER_SCENARIO = 12;

/**
 * Registers the backend conformance suite as jest `describe`/`it` blocks: one `it` per scenario, named
 * `<id>: <behaviour>`, each on three fresh pchannels at once. Scenarios the backend skips — by its
 * `skip` option or because its capabilities rule them out — are registered as skipped tests, and each
 * is printed with its reason so reviewers see what the backend does not promise.
 *
 * Call it at the top level of a test file:
 * ```ts
 * describeBackendConformance({ backend: memoryWal, config: () => ({ store }) });
 * ```
 * Uses the globals `describe`, `it`, `it.skip` and `afterEach` of jest (or a runner with the same API).
 * @throws {TypeError} at registration for a skip without a reason, a skip of an unknown scenario id, or
 *   bad numeric options.
 */
export function describeBackendConformance<C>(options: BackendConformanceOptions<C>): void {
  const resolved = resolveBackendOptions(options, defaultBackendDeps);
  const name = options.backend.name;
  const plan = planBackendScenarios(options.backend.capabilities, options.skip);
  const timeoutMs = resolved.waitTimeoutMs * WAITS_PER_SCENARIO;
  describe(`WAL backend "${name}" conformance`, () => {
    for (const line of describeSkips(name, plan)) console.info(line);
    for (const scenario of plan) {
      const title = `${scenario.id}: ${scenario.title}`;
      if (scenario.skipReason !== undefined) {
        it.skip(`${title} (skipped: ${scenario.skipReason})`, () => {});
        continue;
      }
      it(title, () => runInRuntime(new ScenarioRuntime(resolved) as ScenarioRuntime<unknown>, scenario.id), timeoutMs);
    }
    const additionalTests = options.additionalTests;
    if (additionalTests !== undefined) {
      describe(`backend-specific tests of "${name}"`, () => {
        const ctx = new ScenarioRuntime(resolved);
        afterEach(() => ctx.closeAll());
        additionalTests(ctx);
      });
    }
  });
}
