import { defaultBackendDeps } from '../backend-suite/run-backend-scenario.js';
import { resolveWalOptions } from './options.js';
import type { WalConformanceOptions } from './options.js';
import { runInWalRuntime } from './run-wal-scenario.js';
import { describeWalSkips, planWalScenarios } from './skips.js';
import { WalScenarioRuntime } from './wal-runtime.js';

// A scenario makes many bounded waits in a row (and ordered-delivery's readers pause on purpose); this
// backstop only catches one that keeps making progress forever, so it is a multiple of the wait bound.
const WAITS_PER_SCENARIO = 12;

/**
 * Registers the WAL conformance suite — wal-core's `Wal` over `options.backend` — as jest
 * `describe`/`it` blocks: one `it` per scenario, named `<id>: <behaviour>`, each on three fresh
 * pchannels at once. Scenarios the backend skips (by its `skip` option, or `fencing` for a backend with
 * term-only fencing) are registered as skipped tests and printed with their reason.
 *
 * Call it at the top level of a test file:
 * ```ts
 * describeWalConformance({ backend: memoryWal, config: () => ({ store }) });
 * ```
 * Uses the globals `describe`, `it` and `it.skip` of jest (or a runner with the same API).
 * @throws {TypeError} at registration for a skip without a reason, a skip of an unknown scenario id, or
 *   bad numeric options.
 */
export function describeWalConformance<C>(options: WalConformanceOptions<C>): void {
  const resolved = resolveWalOptions(options, defaultBackendDeps);
  const name = options.backend.name;
  const plan = planWalScenarios(options.backend.capabilities, options.skip);
  const timeoutMs = resolved.waitTimeoutMs * WAITS_PER_SCENARIO;
  const label = options.label === undefined ? '' : ` ${options.label}`;
  describe(`WAL conformance of wal-core over "${name}"${label}`, () => {
    for (const line of describeWalSkips(name, plan)) console.info(line);
    for (const scenario of plan) {
      const title = `${scenario.id}: ${scenario.title}`;
      if (scenario.skipReason !== undefined) {
        it.skip(`${title} (skipped: ${scenario.skipReason})`, () => {});
        continue;
      }
      it(
        title,
        () => runInWalRuntime(new WalScenarioRuntime(resolved) as WalScenarioRuntime<unknown>, scenario.id),
        timeoutMs,
      );
    }
  });
}
