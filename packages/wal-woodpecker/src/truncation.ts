import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { SegmentMeta } from './log-meta.js';
import type { LogPosition } from './message-ids.js';
import type { LogWriter } from './log-writer.js';
import type { LogContext } from './open-writer.js';
import { removeTruncated } from './open-writer.js';

/**
 * Truncates the log before `position`: every segment entirely before the position's segment is marked
 * Truncated in the metadata (by CAS under the writer's claim — readers skip it from then on), then its
 * data is deleted, then its metadata. Whole segments only: the position's own segment stays.
 * @throws {WalError} INVALID_MESSAGE_ID for a position this log never issued; FENCED; UNAVAILABLE.
 */
export async function truncateLog(
  ctx: LogContext,
  writer: LogWriter,
  position: LogPosition,
  text: string,
): Promise<void> {
  const current = writer.position;
  const never = (): WalError =>
    new WalError(
      WalErrorCode.INVALID_MESSAGE_ID,
      `truncate on pchannel "${ctx.pchannel}": id ${text} was never issued by this log`,
    );
  if (
    position.segmentId > current.segmentId ||
    (position.segmentId === current.segmentId && position.entryId > current.lastEntryId)
  ) {
    throw never();
  }
  const segments = await ctx.meta.segments();
  const target = segments.find((s) => s.segmentId === position.segmentId);
  if (target?.state === 'completed' && position.entryId > target.lastEntryId) throw never();
  const marked: SegmentMeta[] = [];
  for (const segment of segments) {
    if (segment.segmentId >= position.segmentId || segment.state === 'active') continue;
    if (segment.state === 'truncated') {
      marked.push(segment);
      continue;
    }
    const done = await ctx.meta.markTruncated(segment, writer.claim);
    if (done === undefined) {
      await ctx.meta.checkOwner(writer.claim);
      continue;
    }
    marked.push(done);
  }
  if (marked.length === 0) return;
  ctx.tail.notify();
  await removeTruncated(ctx, marked);
}
