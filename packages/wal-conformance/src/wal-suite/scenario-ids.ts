/**
 * The scenarios of the WAL conformance suite: wal-core's `Wal` running over a backend, checked end to
 * end (Milvus `internal/streamingnode/server/wal/adaptor/wal_test.go`, strengthened). Ids are stable API:
 * backends name them in `skip`, READMEs list the ones a backend skips, CI output shows them. Add new
 * ids; never rename one. The order is the order the suite runs them in.
 */
export const WAL_SCENARIOS = [
  {
    id: 'ordered-delivery',
    title:
      'ten concurrent writers and readers on read-write and read-only WALs see every acknowledged message once, in strict time-tick order, with transactions whole, across terms 1..3',
  },
  {
    id: 'resume-from-last-confirmed',
    title: "reading from a delivered message's last-confirmed id, after its time tick, yields exactly what followed it",
  },
  {
    id: 'message-type-filter',
    title: 'a message-type filter drops other user types but never system messages, and refuses to name a system type',
  },
  {
    id: 'deliver-latest',
    title: 'a latest reader delivers what is appended after the read and nothing acknowledged before it',
  },
  {
    id: 'txn-atomicity-under-ddl',
    title: 'an exclusive DDL fails the open transactions of its vchannel, which are never delivered, and no others',
  },
  {
    id: 'txn-commit-waits-for-bodies',
    title: 'a commit issued while body appends are in flight waits for them, and the transaction holds all of them',
  },
  {
    id: 'buffer-switch-before-push',
    title:
      'a catch-up reader that reads a persisted tick before the write-ahead buffer has it switches to the buffer without delivering that tick’s messages twice',
  },
  {
    id: 'invariants',
    title:
      'appends that break a vchannel, transaction, size or type rule are refused with their code, write nothing, and the WAL keeps serving',
  },
  {
    id: 'recovery-after-reopen',
    title:
      'a WAL reopened under a new term accepts and refuses exactly what the old one did and can commit its open transactions',
  },
  {
    id: 'fencing',
    title:
      'a WAL opened under a newer term fences the older one: its appends fail with CHANNEL_FENCED and no reader sees its messages after the new term begins',
  },
  {
    id: 'close-behaviour',
    title:
      'close is idempotent, ends pending readers, lets in-flight appends succeed or fail with ON_SHUTDOWN, and refuses later reads and appends',
  },
  {
    id: 'bounded-idle-timers',
    title: 'a WAL taking one append after another does not pile up idle-tick timers and their abort listeners',
  },
  {
    id: 'abort',
    title: 'an append with an already-aborted signal rejects with the abort reason and writes nothing',
  },
] as const;

/** The id of one WAL conformance scenario. */
export type WalScenarioId = (typeof WAL_SCENARIOS)[number]['id'];

/** What the suite says about one scenario: its stable id and the behaviour it checks, as a sentence. */
export interface WalScenarioInfo {
  readonly id: WalScenarioId;
  readonly title: string;
}

/** Every WAL scenario id, in run order. */
export const WAL_SCENARIO_IDS: readonly WalScenarioId[] = WAL_SCENARIOS.map((s) => s.id);

/** True when `id` names a WAL scenario (for validating `skip` keys from untyped callers). */
export function isWalScenarioId(id: string): id is WalScenarioId {
  return (WAL_SCENARIO_IDS as readonly string[]).includes(id);
}
