import assert from 'node:assert/strict';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectWalError } from '../../support/expect-rejection.js';
import { handledLater } from '../../support/settle-all.js';
import { assertSameLog, assertStrictlyIncreasing } from '../log-assertions.js';
import { dataMessage, sortById, TimeTickSource, writtenRecord } from '../records.js';
import type { Stamp, WrittenRecord } from '../records.js';
import { appendRound, readToMarker } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

const IN_FLIGHT = 5;

/**
 * `term-bump-fences-old-writer` (capability `fencing: 'native'`; Milvus leaves this to each backend's
 * own tests). Two openers play the old and the new owner of a pchannel. Once the new owner's open
 * under term 2 resolves, every append of the term-1 handle rejects with FENCED; appends that were in
 * flight during the takeover either landed before it or reject with FENCED. A reader then sees exactly
 * the old writer's acknowledged records, all before the new writer's, and none of the rejected ones.
 */
export async function termBumpFencesOldWriter(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const oldOpener = await ctx.createOpener();
    const oldWal = await ctx.open(oldOpener, { pchannel, term: 1n, mode: 'rw' });
    const acknowledged = await appendRound(ctx, oldWal, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: 10,
      timeTicks,
      lastConfirmed: undefined,
    });
    const stamp = (term: bigint): Stamp => ({
      timeTick: timeTicks.next(),
      term,
      lastConfirmed: acknowledged.at(-1)!.id,
    });

    const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) => {
      const s = stamp(1n);
      const message = dataMessage(pchannel, `term-1/in-flight-${i}`, s);
      return handledLater(oldWal.append(message).then((id) => writtenRecord(message, id, s)));
    });
    const newOpener = await ctx.createOpener();
    const newWal = await ctx.open(newOpener, { pchannel, term: 2n, mode: 'rw' });

    for (let i = 0; i < 2; i++) {
      const message = dataMessage(pchannel, `term-1/after-fence-${i}`, stamp(1n));
      await expectWalError(
        `${pchannel}: append ${i + 1} of the term-1 writer after the term-2 writer opened`,
        () => oldWal.append(message),
        WalErrorCode.FENCED,
        ctx.waitTimeoutMs,
      );
    }
    const outcomes = await ctx.within(
      Promise.allSettled(inFlight),
      `${pchannel}: appends in flight during the takeover`,
    );
    const landed: WrittenRecord[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') landed.push(outcome.value);
      else if (!WalError.is(outcome.reason, WalErrorCode.FENCED)) {
        assert.fail(
          `${pchannel}: in-flight append ${i} of the fenced writer rejected with ${describeError(outcome.reason)}; expected success or WalError FENCED`,
        );
      }
    });
    const old = sortById([...acknowledged, ...landed]);

    const fresh = await appendRound(ctx, newWal, {
      pchannel,
      term: 2n,
      tag: 'term-2',
      count: 10,
      timeTicks,
      lastConfirmed: old.at(-1)!.id,
    });
    if (old.at(-1)!.id.compare(fresh[0]!.id) !== -1) {
      assert.fail(
        `${pchannel}: the fenced writer's record at ${old.at(-1)!.id.toString()} is not before the new writer's first record at ${fresh[0]!.id.toString()}`,
      );
    }
    const what = `${pchannel}, reader after the takeover`;
    const list = await readToMarker(ctx, newWal, { kind: 'all' }, 'term-2', what);
    assertStrictlyIncreasing(list, what);
    assertSameLog(list, [...old, ...fresh], what);
    await ctx.within(oldWal.close(), `${pchannel}: close of the fenced handle`);
  });
}

/**
 * `stale-term-open-rejected` (capability `fencing: 'native'`): while a writer of term 2 is open, a
 * read-write open under term 1 — a node acting on an outdated assignment — rejects with FENCED and
 * does not disturb the term-2 writer.
 */
export async function staleTermOpenRejected(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const current = await ctx.createOpener();
    const wal = await ctx.open(current, { pchannel, term: 2n, mode: 'rw' });
    const written = await appendRound(ctx, wal, {
      pchannel,
      term: 2n,
      tag: 'term-2',
      count: 6,
      timeTicks,
      lastConfirmed: undefined,
    });
    const stale = await ctx.createOpener();
    await expectWalError(
      `${pchannel}: read-write open under term 1 while term 2 writes`,
      () => stale.open({ pchannel, term: 1n, mode: 'rw' }),
      WalErrorCode.FENCED,
      ctx.waitTimeoutMs,
    );
    written.push(
      ...(await appendRound(ctx, wal, {
        pchannel,
        term: 2n,
        tag: 'term-2-again',
        count: 6,
        timeTicks,
        lastConfirmed: written.at(-1)!.id,
      })),
    );
    const what = `${pchannel}, term-2 writer after the stale open`;
    assertSameLog(await readToMarker(ctx, wal, { kind: 'all' }, 'term-2-again', what), written, what);
  });
}
