import type { BackendScenarioId } from '../scenario-ids.js';
import type { ScenarioRuntime } from '../suite-context.js';
import { abortAppend, abortOpen, abortRead } from './abort.js';
import { appendReadConcurrent } from './append-read.js';
import { deliverLatest, deliverStartAfter, deliverStartFrom } from './deliver-policies.js';
import { staleTermOpenRejected, termBumpFencesOldWriter } from './fencing.js';
import { closeEndsScanners, closeIdempotent, operationsAfterClose } from './lifecycle.js';
import { foreignMessageIdRejected, idCodecRoundtrip } from './message-ids.js';
import { openRejectsBadOptions, openReportsChannel } from './open.js';
import { roReadsWhileWriting, roRejectsWrites } from './read-only.js';
import { registryDuplicateName, registryInvalidConfig, registryUnknownName } from './registry.js';
import { truncateReopen } from './truncate.js';

/** One scenario body: throws (an AssertionError, a timeout, the backend's error) when the backend fails it. */
export type ScenarioRun = (ctx: ScenarioRuntime<unknown>) => Promise<void>;

/** Every scenario's body by id; the record type makes a missing scenario a compile error. */
export const SCENARIO_RUNS: Readonly<Record<BackendScenarioId, ScenarioRun>> = {
  'open-reports-channel': openReportsChannel,
  'open-rejects-bad-options': openRejectsBadOptions,
  'append-read-concurrent': appendReadConcurrent,
  'deliver-start-from': deliverStartFrom,
  'deliver-start-after': deliverStartAfter,
  'deliver-latest': deliverLatest,
  'ro-rejects-writes': roRejectsWrites,
  'ro-reads-while-writing': roReadsWhileWriting,
  'truncate-reopen': truncateReopen,
  'term-bump-fences-old-writer': termBumpFencesOldWriter,
  'stale-term-open-rejected': staleTermOpenRejected,
  'id-codec-roundtrip': idCodecRoundtrip,
  'foreign-message-id-rejected': foreignMessageIdRejected,
  'close-idempotent': closeIdempotent,
  'operations-after-close': operationsAfterClose,
  'close-ends-scanners': closeEndsScanners,
  'abort-append': abortAppend,
  'abort-read': abortRead,
  'abort-open': abortOpen,
  'registry-duplicate-name': registryDuplicateName,
  'registry-unknown-name': registryUnknownName,
  'registry-invalid-config': registryInvalidConfig,
};
