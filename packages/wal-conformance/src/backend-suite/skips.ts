import type { WalCapabilities } from '@streamsvc/wal-core';
import { BACKEND_SCENARIOS, isBackendScenarioId } from './scenario-ids.js';
import type { BackendScenarioId, BackendScenarioInfo } from './scenario-ids.js';

/** One scenario as the suite will run it: skipped with a reason, or not. */
export interface PlannedScenario extends BackendScenarioInfo {
  /** Why the scenario does not run; undefined when it runs. */
  readonly skipReason: string | undefined;
}

/** Reasons the suite itself skips scenarios, from what the backend says it cannot do. */
export const CAPABILITY_SKIP_REASONS = {
  termOnlyFencing: 'backend has term-only fencing',
  noReadOnlyOpen: 'backend cannot read through a read-only open while a writer is active',
} as const;

/**
 * Decides which scenarios run. A backend's own reason wins over the suite's capability reason.
 * @throws {TypeError} for a skip key that is not a scenario id (a typo would silently run the scenario)
 *   or a skip without a reason.
 */
export function planBackendScenarios(
  capabilities: WalCapabilities,
  skip: Readonly<Record<string, string | undefined>> = {},
): PlannedScenario[] {
  for (const [id, reason] of Object.entries(skip)) {
    if (!isBackendScenarioId(id)) {
      throw new TypeError(
        `skip names an unknown scenario "${id}"; known: ${BACKEND_SCENARIOS.map((s) => s.id).join(', ')}`,
      );
    }
    // An explicit undefined means "do not skip" (handy for conditional skips); anything else needs words.
    if (reason === undefined) continue;
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TypeError(`skip of scenario "${id}" needs a reason: say why the backend does not promise it`);
    }
  }
  const automatic = capabilitySkips(capabilities);
  return BACKEND_SCENARIOS.map((s) => ({ id: s.id, title: s.title, skipReason: skip[s.id] ?? automatic.get(s.id) }));
}

/** The lines the suite prints for skipped scenarios: `<backend>: skipping <id> — <reason>`. */
export function describeSkips(backendName: string, plan: readonly PlannedScenario[]): string[] {
  return plan
    .filter((s) => s.skipReason !== undefined)
    .map((s) => `[wal-conformance] ${backendName}: skipping ${s.id} — ${s.skipReason}`);
}

function capabilitySkips(capabilities: WalCapabilities): Map<BackendScenarioId, string> {
  const skips = new Map<BackendScenarioId, string>();
  if (capabilities.fencing === 'term-only') {
    skips.set('term-bump-fences-old-writer', CAPABILITY_SKIP_REASONS.termOnlyFencing);
    skips.set('stale-term-open-rejected', CAPABILITY_SKIP_REASONS.termOnlyFencing);
  }
  if (!capabilities.readOnlyOpen) skips.set('ro-reads-while-writing', CAPABILITY_SKIP_REASONS.noReadOnlyOpen);
  return skips;
}
