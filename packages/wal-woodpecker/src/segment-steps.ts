import type { Clock } from '@streamsvc/common';

import { failEntry, resolveEntry } from './entry-queue.js';
import type { PendingEntry } from './entry-queue.js';
import { fencedError } from './errors.js';
import { idOf } from './message-ids.js';
import type { LogClaim, LogMeta, SegmentEnd, SegmentMeta } from './log-meta.js';
import { pollUntil, retryUnavailable } from './retry.js';
import type { BlockSink, BlockWriteOutcome, SegmentStore } from './segment-store.js';

/** The segment a writer is writing. */
export class ActiveSegment {
  nextEntryId = 0;
  nextBlockNo = 0;
  /** Bytes cut into blocks (written or being written): what the size roll looks at. */
  bytes = 0;
  /** What is durable and acknowledged. */
  acked: SegmentEnd = { lastEntryId: -1, blocks: 0, bytes: 0 };
  /** A write failed: the medium must be repaired before the segment is completed. */
  needsRepair = false;
  constructor(
    readonly meta: SegmentMeta,
    readonly sink: BlockSink,
    readonly openedMs: number,
  ) {}
}

/** A block cut from the queue and being written. */
export interface CutBlock {
  readonly segment: ActiveSegment;
  readonly blockNo: number;
  readonly firstEntryId: number;
  readonly entries: PendingEntry[];
  readonly blockBytes: number;
  /** Bytes taken from the in-flight budget by its entries. */
  readonly budgetBytes: number;
  outcome: BlockWriteOutcome | { readonly failed: unknown } | undefined;
}

/** What the segment steps need from the writer. */
export interface StepContext {
  readonly pchannel: string;
  readonly claim: LogClaim;
  readonly meta: LogMeta;
  readonly store: SegmentStore;
  readonly clock: Clock;
}

// Metadata steps of a roll or repair retry transient failures this long before the writer gives up
// (appends then fail UNAVAILABLE and the next append tries again).
const STEP_DEADLINE_MS = 10_000;

/**
 * Finishes `segment` for good: repairs the medium first when a write failed, then records the end in
 * the metadata (CAS under the claim). Returns the recorded end.
 * @throws {WalError} FENCED when a newer writer completed it first; UNAVAILABLE after retries.
 */
export async function sealSegment(ctx: StepContext, segment: ActiveSegment): Promise<SegmentEnd> {
  const policy = { clock: ctx.clock, deadlineMs: STEP_DEADLINE_MS };
  const end = segment.needsRepair
    ? await retryUnavailable(() => segment.sink.repair(segment.acked), policy)
    : segment.acked;
  const done = await retryUnavailable(() => ctx.meta.completeSegment(segment.meta, end, ctx.claim), policy);
  if (done === undefined)
    throw fencedError(ctx.pchannel, ctx.claim.term, 'the segment was completed by a newer writer');
  await (segment.needsRepair ? segment.sink.close() : segment.sink.finish(end));
  return end;
}

/**
 * Creates segment `segmentId` (strictly the next one: a stale writer can never skip ahead) and opens
 * its sink.
 * @throws {WalError} FENCED when another writer claimed the log; UNAVAILABLE after retries.
 */
export async function openSegment(ctx: StepContext, segmentId: number): Promise<ActiveSegment> {
  const policy = { clock: ctx.clock, deadlineMs: STEP_DEADLINE_MS };
  const created = await retryUnavailable(() => ctx.meta.createSegment(segmentId, ctx.claim), policy);
  const sink = await retryUnavailable(() => ctx.store.openSink(ctx.pchannel, segmentId, ctx.claim.term), policy);
  return new ActiveSegment(created, sink, ctx.clock.nowMs());
}

/**
 * Waits (polling with backoff, at most `timeoutMs`) for a newer writer to record where `segmentId`
 * ends; undefined when it does not in time.
 */
export async function recordedEnd(
  ctx: StepContext,
  segmentId: number,
  timeoutMs: number,
): Promise<SegmentMeta | undefined> {
  return pollUntil(
    async () => {
      const now = await ctx.meta.segment(segmentId);
      return now === undefined || now.state === 'active' ? undefined : now;
    },
    { clock: ctx.clock, deadlineMs: timeoutMs, initialMs: 10, maxMs: 200 },
  ).catch(() => undefined);
}

/** Settles a block's entries by a decided end: those up to `lastEntryId` succeed, the others get `failure`. */
export function settleBlock(block: CutBlock, lastEntryId: number, failure: (block: CutBlock) => unknown): void {
  const segmentId = block.segment.meta.segmentId;
  block.entries.forEach((e, i) => {
    const entryId = block.firstEntryId + i;
    if (entryId <= lastEntryId) resolveEntry(e, idOf(segmentId, entryId));
    else failEntry(e, failure(block));
  });
}
