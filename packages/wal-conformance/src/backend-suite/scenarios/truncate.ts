import assert from 'node:assert/strict';
import type { ImmutableMessage } from '@streamsvc/message';
import { assertSameLog, assertStrictlyIncreasing, keyOf } from '../log-assertions.js';
import { TimeTickSource } from '../records.js';
import type { WrittenRecord } from '../records.js';
import { appendRound, forEachTerm, readToMarker } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';

/**
 * `truncate-reopen` (Milvus: truncate then reopen succeeds). The SPI makes truncate(id) a hint that
 * everything *before* id may go, freed in whole units, so the precise promises are:
 *
 * - every record from the id on survives: startFrom(id) yields exactly written[cut:], before and after
 *   a reopen through a new opener under the same term;
 * - the log keeps growing after a truncate, with ids after every earlier one;
 * - a read of `all` yields a contiguous suffix of the log that contains the cut: exactly everything
 *   when `capabilities.truncate` is false (truncate is accepted and ignored), and any suffix starting at
 *   or before the cut when it is true (a segment-based backend frees only whole segments).
 *
 * Where reads from before the cut start is not asserted: the SPI allows them to fail or start later.
 */
export async function truncateReopen(ctx: ScenarioRuntime<unknown>): Promise<void> {
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const written: WrittenRecord[] = [];
    let cut = 0;
    await forEachTerm(ctx, pchannel, [1n], async (wal, term) => {
      written.push(
        ...(await appendRound(ctx, wal, {
          pchannel,
          term,
          tag: 'before-truncate',
          count: ctx.messageCount,
          timeTicks,
          lastConfirmed: undefined,
        })),
      );
      cut = Math.floor(written.length / 2);
      await ctx.within(wal.truncate(written[cut]!.id), `${pchannel}: truncate(${written[cut]!.id.toString()})`);
      const what = `${pchannel}, startFrom the truncation point on the truncating handle`;
      assertSameLog(
        await readToMarker(ctx, wal, { kind: 'startFrom', id: written[cut]!.id }, 'before-truncate', what),
        written.slice(cut),
        what,
      );
    });
    const cutId = written[cut]!.id;
    await forEachTerm(ctx, pchannel, [1n], async (wal, term) => {
      const lastConfirmed = cutId;
      written.push(
        ...(await appendRound(ctx, wal, {
          pchannel,
          term,
          tag: 'after-truncate',
          count: Math.max(4, Math.floor(ctx.messageCount / 4)),
          timeTicks,
          lastConfirmed,
        })),
      );
      const fromCut = `${pchannel}, startFrom the truncation point after reopening`;
      const list = await readToMarker(ctx, wal, { kind: 'startFrom', id: cutId }, 'after-truncate', fromCut);
      assertStrictlyIncreasing(list, fromCut);
      assertSameLog(list, written.slice(cut), fromCut);
      const fromStart = `${pchannel}, read of all after truncate and reopen`;
      const all = await readToMarker(ctx, wal, { kind: 'all' }, 'after-truncate', fromStart);
      assertStrictlyIncreasing(all, fromStart);
      if (!ctx.backend.capabilities.truncate) {
        assertSameLog(all, written, `${fromStart} (capability truncate=false: nothing may be deleted)`);
      } else {
        assertSuffixFrom(all, written, cut, `${fromStart} (capability truncate=true)`);
      }
    });
  });
}

/** Checks that `actual` is `written[k:]` for some k ≤ `cut`. */
function assertSuffixFrom(
  actual: readonly ImmutableMessage[],
  written: readonly WrittenRecord[],
  cut: number,
  what: string,
): void {
  const first = actual[0];
  if (first === undefined) assert.fail(`${what}: read nothing`);
  const start = written.findIndex((r) => r.key === keyOf(first));
  if (start < 0) assert.fail(`${what}: the first record read, ${keyOf(first)}, was never written`);
  if (start > cut) {
    assert.fail(
      `${what}: the read starts at record ${start}, after the truncation point ${cut}; truncate(id) may delete only records before id`,
    );
  }
  assertSameLog(actual, written.slice(start), what);
}
