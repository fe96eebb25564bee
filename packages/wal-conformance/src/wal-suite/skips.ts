import type { WalCapabilities } from '@streamsvc/wal-core';
import { CAPABILITY_SKIP_REASONS } from '../backend-suite/skips.js';
import { isWalScenarioId, WAL_SCENARIOS } from './scenario-ids.js';
import type { WalScenarioId, WalScenarioInfo } from './scenario-ids.js';

/** One WAL scenario as the suite will run it: skipped with a reason, or not. */
export interface PlannedWalScenario extends WalScenarioInfo {
  /** Why the scenario does not run; undefined when it runs. */
  readonly skipReason: string | undefined;
}

/**
 * Decides which WAL scenarios run. A backend's own reason wins over the suite's capability reason.
 * The suite skips `fencing` by itself for a backend with term-only fencing (the old owner is stopped
 * by the coordinator's terms, not by the backend, so its appends may still land).
 * @throws {TypeError} for a skip key that is not a WAL scenario id (a typo would silently run it) or a
 *   skip without a reason.
 */
export function planWalScenarios(
  capabilities: WalCapabilities,
  skip: Readonly<Record<string, string | undefined>> = {},
): PlannedWalScenario[] {
  for (const [id, reason] of Object.entries(skip)) {
    if (!isWalScenarioId(id)) {
      throw new TypeError(
        `skip names an unknown WAL scenario "${id}"; known: ${WAL_SCENARIOS.map((s) => s.id).join(', ')}`,
      );
    }
    // An explicit undefined means "do not skip" (handy for conditional skips); anything else needs words.
    if (reason === undefined) continue;
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TypeError(`skip of WAL scenario "${id}" needs a reason: say why the backend does not promise it`);
    }
  }
  const automatic = new Map<WalScenarioId, string>();
  if (capabilities.fencing === 'term-only') automatic.set('fencing', CAPABILITY_SKIP_REASONS.termOnlyFencing);
  return WAL_SCENARIOS.map((s) => ({ id: s.id, title: s.title, skipReason: skip[s.id] ?? automatic.get(s.id) }));
}

/** The lines the suite prints for skipped scenarios: `<backend>: skipping WAL scenario <id> — <reason>`. */
export function describeWalSkips(backendName: string, plan: readonly PlannedWalScenario[]): string[] {
  return plan
    .filter((s) => s.skipReason !== undefined)
    .map((s) => `[wal-conformance] ${backendName}: skipping WAL scenario ${s.id} — ${s.skipReason}`);
}
