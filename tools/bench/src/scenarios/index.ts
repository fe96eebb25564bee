import type { Scenario } from '../scenario.js';
import { tsoScenario } from './tso.js';
import { walCoreScenario } from './wal-core.js';
import { woodpeckerScenario } from './woodpecker.js';

/** Every benchmark by the name `npm run bench -- <name>` takes. */
export const scenarios: Readonly<Record<string, Scenario<never>>> = {
  tso: tsoScenario as Scenario<never>,
  'wal-core': walCoreScenario as Scenario<never>,
  woodpecker: woodpeckerScenario as Scenario<never>,
};
