import type { Scenario } from '../scenario.js';
import { e2eScenario } from './e2e.js';
import { failoverScenario } from './failover.js';
import { kafkaScenario } from './kafka.js';
import { soakScenario } from './soak.js';
import { tsoScenario } from './tso.js';
import { walCoreScenario } from './wal-core.js';
import { woodpeckerScenario } from './woodpecker.js';

/** Every benchmark by the name `npm run bench -- <name>` takes. */
export const scenarios: Readonly<Record<string, Scenario<never>>> = {
  e2e: e2eScenario as Scenario<never>,
  failover: failoverScenario as Scenario<never>,
  kafka: kafkaScenario as Scenario<never>,
  soak: soakScenario as Scenario<never>,
  tso: tsoScenario as Scenario<never>,
  'wal-core': walCoreScenario as Scenario<never>,
  woodpecker: woodpeckerScenario as Scenario<never>,
};
