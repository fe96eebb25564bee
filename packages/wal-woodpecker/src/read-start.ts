import type { DeliverPolicy } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { positionOf } from './message-ids.js';
import type { LogPosition } from './message-ids.js';
import type { LogContext } from './open-writer.js';

/**
 * Where a read with `policy` starts:
 * - `all`: segment 0 entry 0 — the scanner steps over segments truncation deleted;
 * - `latest`: after the last durable entry (the in-process writer's acknowledged end, else the end of
 *   the last segment: the next segment when it is completed, its last valid block when it is active);
 * - `startFrom` / `startAfter`: the id, which must have been issued by this log. An id in a segment
 *   truncation deleted starts at the first retained segment.
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend or one this log never issued;
 *   INVALID_ARGUMENT for a missing or unknown policy; UNAVAILABLE.
 */
export async function resolveStart(ctx: LogContext, policy: DeliverPolicy | undefined): Promise<LogPosition> {
  switch (policy?.kind) {
    case 'all':
      return { segmentId: 0, entryId: 0 };
    case 'latest':
      return latest(ctx);
    case 'startFrom':
      return issued(ctx, positionOf(policy.id, `read startFrom on pchannel "${ctx.pchannel}"`), policy.id.toString());
    case 'startAfter': {
      const at = await issued(
        ctx,
        positionOf(policy.id, `read startAfter on pchannel "${ctx.pchannel}"`),
        policy.id.toString(),
      );
      return { segmentId: at.segmentId, entryId: at.entryId + 1 };
    }
    case undefined:
      throw new WalError(WalErrorCode.INVALID_ARGUMENT, `read on pchannel "${ctx.pchannel}" needs a deliver policy`);
    default:
      throw new WalError(
        WalErrorCode.INVALID_ARGUMENT,
        `read on pchannel "${ctx.pchannel}": unknown deliver policy ${JSON.stringify((policy as { kind: unknown }).kind)}`,
      );
  }
}

async function latest(ctx: LogContext): Promise<LogPosition> {
  const writer = ctx.tail.writer;
  if (writer !== undefined) return { segmentId: writer.segmentId, entryId: writer.lastEntryId + 1 };
  const last = (await ctx.meta.segments()).at(-1);
  if (last === undefined) return { segmentId: 0, entryId: 0 };
  if (last.state !== 'active') return { segmentId: last.segmentId + 1, entryId: 0 };
  // Written by another process: find the end of its valid blocks.
  const cursor = ctx.store.openCursor(ctx.pchannel, last.segmentId, { knownBlocks: undefined });
  try {
    await cursor.seek(Number.MAX_SAFE_INTEGER);
    return { segmentId: last.segmentId, entryId: cursor.nextEntryId };
  } finally {
    await cursor.close();
  }
}

async function issued(ctx: LogContext, at: LogPosition, text: string): Promise<LogPosition> {
  const never = (): WalError =>
    new WalError(
      WalErrorCode.INVALID_MESSAGE_ID,
      `read on pchannel "${ctx.pchannel}": id ${text} was never issued by this log`,
    );
  const writer = ctx.tail.writer;
  const segments = await ctx.meta.segments();
  const lastSegment = Math.max(segments.at(-1)?.segmentId ?? -1, writer?.segmentId ?? -1);
  if (at.segmentId > lastSegment) throw never();
  const segment = segments.find((s) => s.segmentId === at.segmentId);
  if (segment?.state === 'completed' && at.entryId > segment.lastEntryId) throw never();
  if (segment?.state === 'active' && writer?.segmentId === at.segmentId && at.entryId > writer.lastEntryId) {
    throw never();
  }
  return at;
}
