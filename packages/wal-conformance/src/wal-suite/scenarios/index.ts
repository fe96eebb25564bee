import type { WalScenarioId } from '../scenario-ids.js';
import type { WalScenarioRuntime } from '../wal-runtime.js';
import { abort } from './abort.js';
import { boundedIdleTimers } from './bounded-idle-timers.js';
import { bufferSwitchBeforePush } from './buffer-switch-before-push.js';
import { closeBehaviour } from './close-behaviour.js';
import { deliverLatest } from './deliver-latest.js';
import { fencing } from './fencing.js';
import { invariants } from './invariants.js';
import { messageTypeFilter } from './message-type-filter.js';
import { orderedDelivery } from './ordered-delivery.js';
import { recoveryAfterReopen } from './recovery-after-reopen.js';
import { resumeFromLastConfirmed } from './resume-from-last-confirmed.js';
import { txnAtomicityUnderDdl } from './txn-atomicity-under-ddl.js';
import { txnCommitWaitsForBodies } from './txn-commit-waits-for-bodies.js';

/** One WAL scenario body: throws (an AssertionError, a timeout, the WAL's error) when the WAL fails it. */
export type WalScenarioRun = (ctx: WalScenarioRuntime<unknown>) => Promise<void>;

/** Every WAL scenario's body by id; the record type makes a missing scenario a compile error. */
export const WAL_SCENARIO_RUNS: Readonly<Record<WalScenarioId, WalScenarioRun>> = {
  'ordered-delivery': orderedDelivery,
  'resume-from-last-confirmed': resumeFromLastConfirmed,
  'message-type-filter': messageTypeFilter,
  'deliver-latest': deliverLatest,
  'txn-atomicity-under-ddl': txnAtomicityUnderDdl,
  'txn-commit-waits-for-bodies': txnCommitWaitsForBodies,
  'buffer-switch-before-push': bufferSwitchBeforePush,
  invariants,
  'recovery-after-reopen': recoveryAfterReopen,
  fencing,
  'close-behaviour': closeBehaviour,
  'bounded-idle-timers': boundedIdleTimers,
  abort,
};
