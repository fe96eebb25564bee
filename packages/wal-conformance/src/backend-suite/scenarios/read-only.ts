import type { BackendWal } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { expectWalError } from '../../support/expect-rejection.js';
import { handledLater } from '../../support/settle-all.js';
import { assertSameLog, assertStrictlyIncreasing } from '../log-assertions.js';
import { dataMessage, TimeTickSource } from '../records.js';
import type { WrittenRecord } from '../records.js';
import { appendRound, forEachTerm, readToMarker } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

/**
 * `ro-rejects-writes` (Milvus: RO open must panic on Append/Truncate; here a typed rejection): after a
 * term of writes, a read-only open reads the whole log, and append/truncate on it — called through a
 * cast, as a caller bypassing the types would — return promises that reject with READ_ONLY. A later
 * writer finds nothing of those attempts in the log.
 */
export async function roRejectsWrites(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const written: WrittenRecord[] = [];
    await forEachTerm(ctx, pchannel, [1n], async (wal, term) => {
      written.push(
        ...(await appendRound(ctx, wal, {
          pchannel,
          term,
          tag: 'term-1',
          count: ctx.messageCount,
          timeTicks,
          lastConfirmed: undefined,
        })),
      );
    });
    const opener = await ctx.createOpener();
    const ro = await ctx.open(opener, { pchannel, term: 1n, mode: 'ro' });
    const what = `${pchannel}, read-only handle`;
    const list = await readToMarker(ctx, ro, { kind: 'all' }, 'term-1', what);
    assertStrictlyIncreasing(list, what);
    assertSameLog(list, written, what);

    const asWriter = ro as BackendWal;
    const stamp = { timeTick: timeTicks.next(), term: 1n, lastConfirmed: undefined };
    const message = dataMessage(pchannel, `${pchannel}/read-only-append`, stamp);
    await expectWalError(`${what}: append`, () => asWriter.append(message), WalErrorCode.READ_ONLY, ctx.waitTimeoutMs);
    const midId = written[Math.floor(written.length / 2)]!.id;
    await expectWalError(
      `${what}: truncate`,
      () => asWriter.truncate(midId),
      WalErrorCode.READ_ONLY,
      ctx.waitTimeoutMs,
    );

    // Nothing was written and nothing truncated: a new writer sees exactly the first term plus its own round.
    await forEachTerm(ctx, pchannel, [2n], async (wal, term) => {
      written.push(
        ...(await appendRound(ctx, wal, {
          pchannel,
          term,
          tag: 'term-2',
          count: 4,
          timeTicks,
          lastConfirmed: written.at(-1)!.id,
        })),
      );
      const after = await readToMarker(
        ctx,
        wal,
        { kind: 'all' },
        'term-2',
        `${pchannel}, writer after the read-only attempts`,
      );
      assertSameLog(after, written, `${pchannel}, writer after the read-only attempts`);
    });
  });
}

/**
 * `ro-reads-while-writing` (capability `readOnlyOpen`): a read-only handle from another opener — a
 * query node next to the writer's node — follows the writer's appends live, and a read started after
 * the writes catches up on them.
 */
export async function roReadsWhileWriting(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const writerOpener = await ctx.createOpener();
    const readerOpener = await ctx.createOpener();
    const rw = await ctx.open(writerOpener, { pchannel, term: 1n, mode: 'rw' });
    const ro = await ctx.open(readerOpener, { pchannel, term: 1n, mode: 'ro' });
    const what = `${pchannel}, read-only handle next to a writer`;
    const live = handledLater(readToMarker(ctx, ro, { kind: 'all' }, 'term-1', `${what}, live reader`));
    const written = await appendRound(ctx, rw, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: ctx.messageCount,
      timeTicks: new TimeTickSource(),
      lastConfirmed: undefined,
    });
    const liveList = await live;
    assertStrictlyIncreasing(liveList, `${what}, live reader`);
    assertSameLog(liveList, written, `${what}, live reader`);
    const late = await readToMarker(ctx, ro, { kind: 'all' }, 'term-1', `${what}, catch-up reader`);
    assertSameLog(late, written, `${what}, catch-up reader`);
  });
}
