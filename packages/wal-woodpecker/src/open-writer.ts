import { throwIfAborted } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { WoodpeckerSettings } from './config.js';
import type { LogClaim, LogMeta, SegmentMeta } from './log-meta.js';
import { LogWriter } from './log-writer.js';
import type { SegmentStore } from './segment-store.js';
import type { LogTail } from './tail-hub.js';

/** Everything one opener knows about one pchannel's log. */
export interface LogContext {
  readonly pchannel: string;
  readonly meta: LogMeta;
  readonly store: SegmentStore;
  readonly settings: WoodpeckerSettings;
  readonly tail: LogTail;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Opens a log for write under `term` — Woodpecker's `OpenLogWriter`:
 *
 * 1. records the term in the log's metadata by CAS (FENCED if a newer term is recorded): from here on
 *    every metadata change of an older writer fails;
 * 2. fences every segment an earlier writer left active (fence file / fence object in the medium),
 *    finds its real end by scanning its blocks (a torn tail is cut) and records it (Completed);
 * 3. removes segments a crashed truncation left behind;
 * 4. creates the next segment (create-if-absent, under the claim) and starts writing it.
 *
 * Abort: checked between the steps; a claim already recorded stays (the log is then owned by this
 * term with nothing open, which the next open handles).
 * @throws {WalError} FENCED; CORRUPT when an abandoned segment is damaged beyond a torn tail;
 *   UNAVAILABLE.
 */
export async function openLogWriter(ctx: LogContext, term: bigint, signal?: AbortSignal): Promise<LogWriter> {
  const claim = await ctx.meta.claim(term, { signal });
  throwIfAborted(signal);
  // Listed after the claim: an older writer can no longer create segments, so none is missed.
  const segments = await ctx.meta.segments({ signal });
  await Promise.all(segments.filter((s) => s.state === 'active').map((s) => completeAbandoned(ctx, s, claim)));
  throwIfAborted(signal);
  await removeTruncated(ctx, segments);
  const nextId = segments.length === 0 ? 0 : segments[segments.length - 1]!.segmentId + 1;
  const segment = await ctx.meta.createSegment(nextId, claim, { signal });
  const sink = await ctx.store.openSink(ctx.pchannel, nextId, term);
  ctx.logger.debug(
    { segmentId: nextId, recovered: segments.filter((s) => s.state === 'active').length },
    'opened for write',
  );
  return new LogWriter({ ...ctx, claim, segment, sink });
}

async function completeAbandoned(ctx: LogContext, segment: SegmentMeta, claim: LogClaim): Promise<void> {
  const end = await ctx.store.fenceAndRecover(ctx.pchannel, segment.segmentId, claim.term);
  const done = await ctx.meta.completeSegment(segment, end, claim);
  if (done !== undefined) {
    ctx.logger.info({ segmentId: segment.segmentId, ...end }, 'recovered an abandoned segment');
    return;
  }
  await ctx.meta.checkOwner(claim);
  throw new WalError(
    WalErrorCode.UNAVAILABLE,
    `pchannel "${ctx.pchannel}": segment ${segment.segmentId} changed while it was being recovered; open again`,
  );
}

/** Deletes the data, then the metadata, of segments a truncation marked but did not finish deleting. */
export async function removeTruncated(ctx: LogContext, segments: readonly SegmentMeta[]): Promise<void> {
  for (const segment of segments) {
    if (segment.state !== 'truncated') continue;
    try {
      await ctx.store.deleteSegment(ctx.pchannel, segment.segmentId);
      await ctx.meta.deleteSegment(segment);
    } catch (e) {
      // Garbage, not a correctness problem: the next truncation or open tries again.
      ctx.logger.warn({ err: e, segmentId: segment.segmentId }, 'could not delete a truncated segment');
    }
  }
}
