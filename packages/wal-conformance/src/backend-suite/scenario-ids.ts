/**
 * The scenarios of the backend conformance suite. Ids are stable API: backends name them in `skip`,
 * READMEs list the ones a backend skips, and CI output shows them. Add new ids; never rename one.
 * The order is the order the suite runs them in.
 */
export const BACKEND_SCENARIOS = [
  {
    id: 'open-reports-channel',
    title: 'a handle opened under terms 1..3 reports the pchannel, term and mode it was opened with',
  },
  {
    id: 'open-rejects-bad-options',
    title: 'open rejects an empty pchannel, a term below 1 and an unknown mode with INVALID_ARGUMENT',
  },
  {
    id: 'append-read-concurrent',
    title:
      'five concurrent writers and two concurrent readers see one strictly id-ordered log, equal to what was written, that survives reopening under terms 1..3',
  },
  {
    id: 'deliver-start-from',
    title: 'a read from startFrom(id) delivers exactly the records from that id on',
  },
  {
    id: 'deliver-start-after',
    title: 'a read from startAfter(id) delivers exactly the records after that id',
  },
  {
    id: 'deliver-latest',
    title: 'a read from latest delivers no earlier record for a second, then the next record appended',
  },
  {
    id: 'ro-rejects-writes',
    title: 'a read-only handle reads the log but rejects append and truncate with READ_ONLY and writes nothing',
  },
  {
    id: 'ro-reads-while-writing',
    title: 'a read-only handle from another opener follows a live writer',
  },
  {
    id: 'truncate-reopen',
    title: 'truncate keeps every record from the id on, and the log reopens and keeps growing after it',
  },
  {
    id: 'term-bump-fences-old-writer',
    title:
      'a read-write open under a newer term fences the older writer: its appends reject with FENCED and never reach the log',
  },
  {
    id: 'stale-term-open-rejected',
    title: 'a read-write open under an older term than the current writer rejects with FENCED',
  },
  {
    id: 'id-codec-roundtrip',
    title: 'every id the backend returns parses back equal from its string form and compares in log order',
  },
  {
    id: 'foreign-message-id-rejected',
    title: 'read and truncate reject an id of another backend with INVALID_MESSAGE_ID',
  },
  {
    id: 'close-idempotent',
    title: 'close returns the same promise twice for handles and openers, and Symbol.asyncDispose closes',
  },
  {
    id: 'operations-after-close',
    title: 'operations on a closed handle or opener reject with CLOSED',
  },
  {
    id: 'close-ends-scanners',
    title: 'closing a scanner, its handle or its opener ends a read waiting at the tail',
  },
  {
    id: 'abort-append',
    title: 'an append with an already-aborted signal rejects with the abort reason and writes nothing',
  },
  {
    id: 'abort-read',
    title: 'a read with an already-aborted signal rejects with the abort reason',
  },
  {
    id: 'abort-open',
    title: 'an open with an already-aborted signal rejects with the abort reason',
  },
  {
    id: 'registry-duplicate-name',
    title: 'a registry given the backend twice throws BACKEND_DUPLICATE',
  },
  {
    id: 'registry-unknown-name',
    title: 'a registry asked for an unknown name throws BACKEND_UNKNOWN listing the backend',
  },
  {
    id: 'registry-invalid-config',
    title: 'a registry rejects an invalid configuration with INVALID_CONFIG naming the path, and opens a valid one',
  },
] as const;

/** The id of one backend conformance scenario. */
export type BackendScenarioId = (typeof BACKEND_SCENARIOS)[number]['id'];

/** What the suite says about one scenario: its stable id and the behaviour it checks, as a sentence. */
export interface BackendScenarioInfo {
  readonly id: BackendScenarioId;
  readonly title: string;
}

/** Every scenario id, in run order. */
export const BACKEND_SCENARIO_IDS: readonly BackendScenarioId[] = BACKEND_SCENARIOS.map((s) => s.id);

/** True when `id` names a backend scenario (for validating `skip` keys from untyped callers). */
export function isBackendScenarioId(id: string): id is BackendScenarioId {
  return (BACKEND_SCENARIO_IDS as readonly string[]).includes(id);
}
